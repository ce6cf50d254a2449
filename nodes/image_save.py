"""SaveImage and PreviewImage: write PNGs (with the workflow embedded) and show them in the editor."""

from __future__ import annotations

import random
import string
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from graphflow.imaging.files import next_counter, save_target, substitute_prefix
from graphflow.node import Input, Node, Outputs, node
from graphflow.paths import UnsafePathError
from graphflow.sockets import Image

if TYPE_CHECKING:
    from graphflow.context import NodeContext


def png_metadata(prompt: dict[str, Any] | None, extra_pnginfo: dict[str, Any] | None) -> Any:
    """The PNG text chunks: ``prompt``, then one per ``extra_pnginfo`` key (normally ``workflow``)."""
    from graphflow.workflow.png import png_text_chunks

    return png_text_chunks(prompt, extra_pnginfo)


def save_images(
    ctx: NodeContext, images: Any, prefix: str, root: Path, folder_type: str, compress_level: int
) -> list[dict[str, str]]:
    """Write every image of the batch as ``<prefix>_<counter:05d>_.png``; return the editor's image entries."""
    from PIL import Image as PILImage

    height, width = int(images.shape[1]), int(images.shape[2])
    try:
        folder, base, subfolder = save_target(root, substitute_prefix(prefix, width, height))
    except UnsafePathError as error:
        raise ValueError(
            f"cannot save to {prefix!r}: saving outside the {folder_type} folder is not allowed ({error}). "
            "Use a prefix such as 'ComfyUI' or 'subfolder/name'."
        ) from None
    folder.mkdir(parents=True, exist_ok=True)
    metadata = png_metadata(ctx.prompt, ctx.extra_pnginfo) if ctx.runtime.write_metadata else None
    counter = next_counter(folder, base)
    results = []
    for number, image in enumerate(images):
        pixels = np.clip(image.detach().float().cpu().numpy() * 255.0, 0, 255).astype(np.uint8)
        name = f"{base.replace('%batch_num%', str(number))}_{counter:05d}_.png"
        PILImage.fromarray(pixels).save(folder / name, pnginfo=metadata, compress_level=compress_level)
        results.append({"filename": name, "subfolder": subfolder, "type": folder_type})
        counter += 1
    return results


@node(
    "SaveImage",
    display_name="Save Image",
    category="image",
    python_module="nodes",
    output_node=True,
    hidden=("PROMPT", "EXTRA_PNGINFO"),
    description="Saves the input images to your ComfyUI output directory.",
)
class SaveImage(Node):
    """Save PNGs to the output folder with the prompt and workflow in text chunks (unless metadata is off)."""

    images: Image = Input(tooltip="The images to save.")
    filename_prefix: str = Input(
        "ComfyUI",
        tooltip=(
            "The prefix for the file to save. This may include formatting information such as "
            "%date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes."
        ),
    )

    def run(self, ctx: NodeContext) -> Outputs:
        saved = save_images(
            ctx, self.images, self.filename_prefix, ctx.paths.output, "output", compress_level=4
        )
        return Outputs(ui={"images": saved})


@node(
    "PreviewImage",
    display_name="Preview Image",
    category="image",
    python_module="nodes",
    output_node=True,
    hidden=("PROMPT", "EXTRA_PNGINFO"),
    description="Saves the input images to your ComfyUI output directory.",
)
class PreviewImage(Node):
    """Show images in the editor: saved to the temp folder (wiped at start-up) as ``ComfyUI_temp_xxxxx``."""

    images: Image = Input(tooltip="The images to save.")

    def run(self, ctx: NodeContext) -> Outputs:
        suffix = "".join(random.choice(string.ascii_lowercase) for _ in range(5))
        saved = save_images(
            ctx, self.images, f"ComfyUI_temp_{suffix}", ctx.paths.temp, "temp", compress_level=1
        )
        return Outputs(ui={"images": saved})
