"""Prompt syntax, chunking, weighting, embeddings and the conditioning nodes."""

from __future__ import annotations

import pytest
import torch

from graphflow.conditioning.embeddings import EmbeddingLibrary
from graphflow.conditioning.encode import encode_prompt
from graphflow.conditioning.prompt_syntax import parse_prompt
from graphflow.conditioning.tokens import split_words, tokenize
from graphflow.models.tokenizer import END_TOKEN_ID, START_TOKEN_ID, clip_tokenizer

from . import tiny_models


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a cat", [("a cat", 1.0)]),
        ("a (cat:1.5) sits", [("a ", 1.0), ("cat", 1.5), (" sits", 1.0)]),
        ("(cat)", [("cat", pytest.approx(1.1))]),
        ("((cat))", [("cat", pytest.approx(1.21))]),
        ("((cat:0.5))", [("cat", 0.5)]),
        ("[cat]", [("cat", pytest.approx(1 / 1.1))]),
        (r"\(cat\) \[dog\]", [("(cat) [dog]", 1.0)]),
        ("(a (b:1.3) c)", [("a ", pytest.approx(1.1)), ("b", 1.3), (" c", pytest.approx(1.1))]),
        ("(big:x)", [("big:x", pytest.approx(1.1))]),
        ("unclosed (paren", [("unclosed (paren", 1.0)]),
        ("stray) paren", [("stray) paren", 1.0)]),
        ("12:30 (time:0.8)", [("12:30 ", 1.0), ("time", 0.8)]),
    ],
)
def test_prompt_syntax(text, expected):
    assert parse_prompt(text) == expected


def _chunks(text):
    return tokenize(split_words(parse_prompt(text)), clip_tokenizer(), END_TOKEN_ID, lambda name: None)


def test_short_prompt_is_one_padded_chunk():
    (chunk,) = _chunks("a photo of a cat")
    assert chunk.ids[:7] == (START_TOKEN_ID, 320, 1125, 539, 320, 2368, END_TOKEN_ID)
    assert len(chunk.ids) == 77 and set(chunk.ids[7:]) == {END_TOKEN_ID}


def test_long_prompt_is_chunked_by_75_tokens_without_splitting_short_words():
    text = " ".join(["cat"] * 74 + ["photograph"] * 3)  # 74 + 3 one-token words
    chunks = _chunks(text)
    assert len(chunks) == 2
    assert all(len(c.ids) == 77 and c.ids[0] == START_TOKEN_ID for c in chunks)
    first_content = [i for i in chunks[0].ids[1:] if i != END_TOKEN_ID]
    assert len(first_content) == 75
    # A word too long for the room left starts the next chunk instead of being cut.
    word_ids = tuple(clip_tokenizer()("supercalifragilistic", add_special_tokens=False)["input_ids"])
    assert len(word_ids) == 5
    chunks = _chunks(" ".join(["cat"] * 73 + ["supercalifragilistic"]))
    assert len(chunks) == 2
    assert chunks[0].ids[73:75] == (2368, END_TOKEN_ID)  # 73 cats, then the chunk is closed
    assert chunks[1].ids[1:6] == word_ids


def test_empty_prompt_is_bos_eos_and_padding():
    (chunk,) = _chunks("")
    assert chunk.ids[:2] == (START_TOKEN_ID, END_TOKEN_ID) and set(chunk.weights) == {1.0}


def test_long_prompt_encodes_to_77k_tokens():
    cond, pooled = encode_prompt(tiny_models.sd1_clip(), " ".join(["cat"] * 100))
    assert cond.shape == (1, 154, 32) and pooled.shape == (1, 32)


def test_weights_move_tokens_away_from_the_empty_prompt():
    clip = tiny_models.sd1_clip()
    plain, _ = encode_prompt(clip, "a cat sits")
    weighted, _ = encode_prompt(clip, "a (cat:1.5) sits")
    empty, _ = encode_prompt(clip, "")
    changed = (plain - weighted).abs().amax(-1)[0]
    assert changed.nonzero().flatten().tolist() == [2]  # only the weighted token's position
    expected = empty[0, 2] + 1.5 * (plain[0, 2] - empty[0, 2])
    assert torch.allclose(weighted[0, 2], expected, atol=1e-5)


def test_clip_set_last_layer_changes_the_encoding(runtime):
    from graphflow.nodes.conditioning import CLIPSetLastLayer

    clip = tiny_models.sd1_clip()
    skipped = CLIPSetLastLayer.spec.runner.call(None, {"clip": clip, "stop_at_clip_layer": -2}).outputs[0]
    assert skipped.stop_at_layer == -2 and clip.stop_at_layer is None
    last, _ = encode_prompt(clip, "a cat")
    penultimate, _ = encode_prompt(skipped, "a cat")
    _, _, text = tiny_models.sd1_parts()
    ids = torch.tensor([_chunks("a cat")[0].ids])
    hidden = text(input_ids=ids, output_hidden_states=True).hidden_states[-2]
    assert torch.allclose(penultimate, text.final_layer_norm(hidden), atol=1e-6)
    assert not torch.allclose(last, penultimate)


def _token_rows(words):
    _, _, text = tiny_models.sd1_parts()
    ids = clip_tokenizer()(words, add_special_tokens=False)["input_ids"]
    return torch.stack([text.get_input_embeddings().weight[i[0]].detach() for i in ids])


@pytest.mark.parametrize("layout", ["safetensors", "pt"])
def test_embedding_vectors_replace_their_tokens(tmp_path, layout):
    vectors = _token_rows(["cat", "dog"])  # an embedding equal to the tokens "cat dog"
    if layout == "safetensors":
        from safetensors.torch import save_file

        save_file({"emb_params": vectors.contiguous()}, str(tmp_path / "pet.safetensors"))
    else:
        torch.save({"string_to_param": {"*": vectors}}, tmp_path / "pet.pt")
    clip = tiny_models.sd1_clip()
    library = EmbeddingLibrary([tmp_path])
    with_embedding, _ = encode_prompt(clip, "a photo of embedding:pet, sleeping", library)
    with_words, _ = encode_prompt(clip, "a photo of cat dog, sleeping")
    assert torch.allclose(with_embedding, with_words, atol=1e-5)
    assert library.missing == []


def test_missing_embedding_is_left_out(tmp_path):
    library = EmbeddingLibrary([tmp_path])
    clip = tiny_models.sd1_clip()
    missing, _ = encode_prompt(clip, "a embedding:nothing cat", library)
    plain, _ = encode_prompt(clip, "a cat")
    assert torch.allclose(missing, plain) and library.missing == ["nothing"]


def test_embedding_names_cannot_leave_their_folder(tmp_path):
    inside = tmp_path / "embeddings"
    inside.mkdir()
    torch.save({"emb_params": torch.zeros(1, 32)}, tmp_path / "secret.pt")
    assert EmbeddingLibrary([inside]).find("../secret") is None


def test_sdxl_concatenates_both_encoders_and_pools_from_bigg():
    clip = tiny_models.sdxl_clip()
    cond, pooled = encode_prompt(clip, "a cat")
    _, clip_l, clip_g = tiny_models.sdxl_parts()
    ids_l = torch.tensor([_chunks("a cat")[0].ids])
    ids_g = torch.tensor(
        [tokenize(split_words(parse_prompt("a cat")), clip_tokenizer("!"), 0, lambda n: None)[0].ids]
    )
    assert ids_g[0, 4] == 0  # bigG pads with token 0 after the end token
    out_l = clip_l(input_ids=ids_l, output_hidden_states=True)
    out_g = clip_g(input_ids=ids_g, output_hidden_states=True)
    assert cond.shape == (1, 77, 64)
    assert torch.allclose(cond[..., :32], out_l.hidden_states[-2], atol=1e-6)  # penultimate, no final LN
    assert torch.allclose(cond[..., 32:], out_g.hidden_states[-2], atol=1e-6)
    assert torch.allclose(pooled, out_g.text_embeds, atol=1e-6)


def test_clip_text_encode_node_output_shape(runtime):
    from graphflow.nodes.conditioning import CLIPTextEncode

    from graphflow.context import CancelToken, NodeContext

    ctx = NodeContext(runtime, "1", "1", "p", {}, {}, CancelToken(), lambda *a: None)
    (value,) = CLIPTextEncode.spec.runner.call(ctx, {"text": "a cat", "clip": tiny_models.sd1_clip()}).outputs
    assert (
        len(value) == 1 and value[0][0].shape == (1, 77, 32) and value[0][1]["pooled_output"].shape == (1, 32)
    )


def test_conditioning_combine_and_set_area():
    from graphflow.nodes.conditioning import ConditioningCombine, ConditioningSetArea

    a = [[torch.zeros(1, 77, 32), {"pooled_output": None}]]
    b = [[torch.ones(1, 77, 32), {"pooled_output": None}]]
    combined = ConditioningCombine.spec.runner.call(None, {"conditioning_1": a, "conditioning_2": b}).outputs[
        0
    ]
    assert [float(c[0].mean()) for c in combined] == [0.0, 1.0]
    inputs = {"conditioning": combined, "width": 256, "height": 128, "x": 64, "y": 8, "strength": 0.7}
    placed = ConditioningSetArea.spec.runner.call(None, inputs).outputs[0]
    assert [c[1]["area"] for c in placed] == [(16, 32, 1, 8)] * 2
    assert placed[0][1]["strength"] == 0.7 and placed[0][1]["set_area_to_bounds"] is False
    assert "area" not in combined[0][1]  # inputs are not mutated
