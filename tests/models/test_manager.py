"""ModelManager: caching by file identity, budget eviction, LoRA patches, embeddings, device policy."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import save_file

from graphflow.models import manager as manager_module
from graphflow.models.device import CPU_BF16_MIN_PARAMS, DevicePolicy
from graphflow.models.errors import ModelFileError
from graphflow.models.export import export_ldm_checkpoint
from graphflow.models.manager import ModelManager

from .factories import randomize, tiny_clip, tiny_unet, tiny_vae

CPU = DevicePolicy.cpu_fp32()


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    return export_ldm_checkpoint(
        folder / "tiny.safetensors",
        unet=randomize(tiny_unet(), seed=1),
        vae=randomize(tiny_vae(), seed=2),
        text_encoder=randomize(tiny_clip(), seed=3),
    )


def _copy(src: Path, dst: Path) -> Path:
    dst.write_bytes(src.read_bytes())
    return dst


def test_same_file_gives_the_same_modules(tiny_file: Path) -> None:
    manager = ModelManager(CPU, budget_bytes=10**9)
    first = manager.load_checkpoint(tiny_file)
    second = manager.load_checkpoint(tiny_file)
    assert first.model.unet is second.model.unet
    assert first.vae is not None and second.vae is not None and first.vae.vae is second.vae.vae
    stats = manager.stats()
    assert [(kind, Path(path).name) for kind, path, _ in stats.entries] == [
        ("checkpoint", "tiny.safetensors")
    ]
    params = sum(p.numel() for p in first.model.unet.parameters())
    assert stats.total_bytes > params * 4  # UNet + text encoder + VAE, fp32


def test_touched_file_is_loaded_again(tiny_file: Path, tmp_path: Path) -> None:
    path = _copy(tiny_file, tmp_path / "edit.safetensors")
    manager = ModelManager(CPU, budget_bytes=10**9)
    before = manager.load_checkpoint(path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    after = manager.load_checkpoint(path)
    assert after.model.unet is not before.model.unet
    assert len(manager.stats().entries) == 1  # the stale version was dropped


def test_budget_evicts_least_recently_used(tiny_file: Path, tmp_path: Path) -> None:
    a = _copy(tiny_file, tmp_path / "a.safetensors")
    b = _copy(tiny_file, tmp_path / "b.safetensors")
    c = _copy(tiny_file, tmp_path / "c.safetensors")
    probe = ModelManager(CPU, budget_bytes=10**9)
    probe.load_checkpoint(a)
    one = probe.stats().total_bytes
    manager = ModelManager(CPU, budget_bytes=int(one * 2.5))
    first_a = manager.load_checkpoint(a)
    manager.load_checkpoint(b)
    manager.load_checkpoint(a)  # a is now the most recently used
    manager.load_checkpoint(c)  # over budget: b goes
    names = [Path(p).name for _, p, _ in manager.stats().entries]
    assert names == ["a.safetensors", "c.safetensors"]
    assert manager.load_checkpoint(a).model.unet is first_a.model.unet
    manager.unload_all()
    assert manager.stats().entries == ()
    assert manager.load_checkpoint(a).model.unet is not first_a.model.unet


def test_a_model_larger_than_the_budget_still_loads(tiny_file: Path) -> None:
    manager = ModelManager(CPU, budget_bytes=1)
    assert manager.load_checkpoint(tiny_file).model.unet is not None
    assert len(manager.stats().entries) == 1


def test_concurrent_requests_load_once(tiny_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = manager_module.load_checkpoint

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(str(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(manager_module, "load_checkpoint", counting)
    manager = ModelManager(CPU, budget_bytes=10**9)
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(manager.load_checkpoint(tiny_file))) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert len({id(r.model.unet) for r in results}) == 1


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="no such file"):
        ModelManager(CPU, budget_bytes=10**9).load_checkpoint(tmp_path / "nope.safetensors")


def _kohya_lora(rank: int = 2, alpha: float = 1.0, seed: int = 0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)

    def pair(name: str, out_features: int, in_features: int, conv: bool = False) -> dict[str, torch.Tensor]:
        shape_down = (rank, in_features, 1, 1) if conv else (rank, in_features)
        shape_up = (out_features, rank, 1, 1) if conv else (out_features, rank)
        return {
            f"{name}.lora_down.weight": torch.randn(shape_down, generator=gen) * 0.5,
            f"{name}.lora_up.weight": torch.randn(shape_up, generator=gen) * 0.5,
            f"{name}.alpha": torch.tensor(alpha),
        }

    return {
        # diffusers names (how kohya saves SD1.x UNet LoRAs)
        **pair("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k", 32, 64),
        # LDM names (how kohya saves SDXL UNet LoRAs), here input_blocks.1.1 = down_blocks.0.attentions.0
        **pair("lora_unet_input_blocks_1_1_proj_in", 32, 32, conv=True),
        **pair("lora_te_text_model_encoder_layers_0_self_attn_q_proj", 64, 64),
        **pair("lora_te_text_model_encoder_layers_1_mlp_fc1", 128, 64),
        **pair("lora_unet_not_a_real_module", 4, 4),
    }


def test_lora_patches_change_outputs_and_are_restored(tiny_file: Path, tmp_path: Path) -> None:
    lora_path = tmp_path / "style.safetensors"
    save_file(_kohya_lora(rank=2, alpha=1.0), str(lora_path))
    manager = ModelManager(CPU, budget_bytes=10**9)
    model, clip, _ = manager.load_checkpoint(tiny_file)
    assert clip is not None
    patches = manager.load_lora(lora_path, model, clip, strength_model=0.8, strength_clip=1.0)
    assert sorted(patches.unet.deltas) == [
        "down_blocks.0.attentions.0.proj_in.weight",
        "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight",
    ]
    assert sorted(patches.clip.deltas) == [
        "clip_l.encoder.layers.0.self_attn.q_proj.weight",
        "clip_l.encoder.layers.1.mlp.fc1.weight",
    ]
    assert patches.unmatched == ("lora_unet.not_a_real_module",)

    lora = manager.lora_tensors(lora_path)
    name = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k"
    expected_delta = 0.8 * (1.0 / 2) * (lora[f"{name}.lora_up.weight"] @ lora[f"{name}.lora_down.weight"])
    base_weight = model.unet.down_blocks[0].attentions[0].transformer_blocks[0].attn2.to_k.weight.clone()
    sample, t, context = torch.randn(1, 4, 8, 8), torch.tensor([100]), torch.randn(1, 5, 64)
    with torch.no_grad():
        base_out = model.unet(sample, t, context).sample
        patched_model = model.with_patch(patches.unet)
        with patched_model.patched() as unet:
            patched_weight = unet.down_blocks[0].attentions[0].transformer_blocks[0].attn2.to_k.weight.clone()
            patched_out = unet(sample, t, context).sample
        after_out = model.unet(sample, t, context).sample
    assert torch.allclose(patched_weight, base_weight + expected_delta, atol=1e-6)
    assert not torch.allclose(patched_out, base_out, atol=1e-4)
    assert torch.equal(after_out, base_out)
    assert torch.equal(
        model.unet.down_blocks[0].attentions[0].transformer_blocks[0].attn2.to_k.weight, base_weight
    )

    ids = torch.tensor([[49406, 320, 2368, 49407] + [49407] * 73])
    encoder = clip.parts[0].model
    with torch.no_grad():
        base_text = encoder(ids).last_hidden_state
        with clip.with_patch(patches.clip).patched() as parts:
            patched_text = parts[0].model(ids).last_hidden_state
        assert torch.equal(encoder(ids).last_hidden_state, base_text)
    assert not torch.allclose(patched_text, base_text, atol=1e-4)


def test_lora_key_mapping_agrees_with_diffusers() -> None:
    """diffusers' own kohya converter puts these keys on the same modules our lookup picks."""
    from diffusers.loaders.lora_conversion_utils import _convert_non_diffusers_lora_to_diffusers

    lora = {k: v for k, v in _kohya_lora().items() if "input_blocks" not in k and "not_a_real" not in k}
    converted, _alphas = _convert_non_diffusers_lora_to_diffusers(dict(lora))
    modules = sorted(
        k.removesuffix(".weight")
        .replace(".processor", "")
        .replace("_lora.down", "")
        .replace(".lora.down", "")
        .replace(".lora_linear_layer.down", "")
        for k in converted
        if ".down." in k or "lora_A" in k or "_lora.down" in k
    )
    assert modules == [
        "text_encoder.text_model.encoder.layers.0.self_attn.to_q",
        "text_encoder.text_model.encoder.layers.1.mlp.fc1",
        "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k",
    ]
    # ours, for the same keys: to_k on the UNet; q_proj (HF's name for diffusers' to_q alias) on CLIP.
    unet = tiny_unet()
    from graphflow.models.lora import _text_lookup, _unet_lookup

    assert _unet_lookup(unet)["down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k"] == (
        "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k"
    )
    lookup = _text_lookup(tiny_clip())
    assert lookup["text_model_encoder_layers_0_self_attn_q_proj"] == "encoder.layers.0.self_attn.q_proj"
    assert lookup["text_model_encoder_layers_1_mlp_fc1"] == "encoder.layers.1.mlp.fc1"


def test_peft_style_lora(tiny_file: Path, tmp_path: Path) -> None:
    gen = torch.Generator().manual_seed(1)
    path = tmp_path / "peft.safetensors"
    save_file(
        {
            "unet.up_blocks.1.attentions.0.transformer_blocks.0.attn1.to_v.lora_A.weight": torch.randn(
                4, 32, generator=gen
            ),
            "unet.up_blocks.1.attentions.0.transformer_blocks.0.attn1.to_v.lora_B.weight": torch.randn(
                32, 4, generator=gen
            ),
        },
        str(path),
    )
    manager = ModelManager(CPU, budget_bytes=10**9)
    model, clip, _ = manager.load_checkpoint(tiny_file)
    patches = manager.load_lora(path, model, clip)
    recipe = patches.unet.deltas["up_blocks.1.attentions.0.transformer_blocks.0.attn1.to_v.weight"]
    assert recipe[0] == "lowrank" and recipe[3] == 1.0  # no alpha: scale 1
    assert patches.clip.deltas == {} and patches.unmatched == ()


def test_lora_for_another_family_matches_nothing(tiny_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "sdxl_lora.safetensors"
    save_file(
        {
            "lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight": torch.zeros(4, 640),
            "lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight": torch.zeros(640, 4),
        },
        str(path),
    )
    manager = ModelManager(CPU, budget_bytes=10**9)
    model, clip, _ = manager.load_checkpoint(tiny_file)
    patches = manager.load_lora(path, model, clip)
    assert patches.unet.deltas == {} and patches.unmatched == (
        "lora_unet.down_blocks_0_attentions_0_proj_in",
    )


def test_embeddings_in_every_layout(tmp_path: Path) -> None:
    vectors = torch.randn(3, 64)
    save_file({"emb_params": vectors}, str(tmp_path / "a1111.safetensors"))
    torch.save({"string_to_param": {"*": vectors}, "name": "x", "step": 100}, tmp_path / "a1111.pt")
    save_file(
        {"clip_l": torch.randn(2, 768), "clip_g": torch.randn(2, 1280)}, str(tmp_path / "xl.safetensors")
    )
    torch.save({"<cat-toy>": vectors[0]}, tmp_path / "learned_embeds.bin")
    manager = ModelManager(CPU, budget_bytes=10**9)
    for name in ("a1111.safetensors", "a1111.pt"):
        embedding = manager.load_embedding(tmp_path / name)
        assert torch.equal(embedding.for_width(64), vectors)
        assert embedding.num_vectors == 3
    xl = manager.load_embedding(tmp_path / "xl.safetensors")
    assert (
        xl.for_width(768).shape == (2, 768)
        and xl.for_width(1280).shape == (2, 1280)
        and xl.for_width(1024) is None
    )
    single = manager.load_embedding(tmp_path / "learned_embeds.bin")
    assert torch.equal(single.for_width(64), vectors[:1])
    assert manager.load_embedding(tmp_path / "a1111.pt") is manager.load_embedding(tmp_path / "a1111.pt")


def test_device_policy_rules() -> None:
    cpu = torch.device("cpu")
    with_bf16 = DevicePolicy(cpu, "auto", hardware_bf16=True)
    without = DevicePolicy(cpu, "auto", hardware_bf16=False)
    assert with_bf16.dtype_for(CPU_BF16_MIN_PARAMS + 1) == torch.bfloat16
    assert with_bf16.dtype_for(8_000_000) == torch.float32
    assert without.dtype_for(2_000_000_000) == torch.float32
    assert DevicePolicy(cpu, "fp16").dtype_for(10) == torch.float16
    cuda = DevicePolicy(torch.device("cuda"), "auto", hardware_bf16=False)
    assert cuda.dtype_for(10, "unet") == torch.float16 and cuda.dtype_for(10, "vae") == torch.float32
    detected = DevicePolicy.detect()
    assert detected.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="fp32"):
        DevicePolicy.detect(dtype="fp64")  # type: ignore[arg-type]


def test_manager_uses_the_policy_dtype(tiny_file: Path) -> None:
    manager = ModelManager(DevicePolicy(torch.device("cpu"), "bf16"), budget_bytes=10**9)
    model, clip, vae = manager.load_checkpoint(tiny_file)
    assert model.dtype == torch.bfloat16 and vae is not None and vae.dtype == torch.bfloat16
    assert clip is not None and next(clip.parts[0].model.parameters()).dtype == torch.bfloat16
