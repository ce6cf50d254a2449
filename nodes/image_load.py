"""LoadImage and LoadImageMask: read a file from the input folder (or ``[output]``/``[temp]``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from graphflow.imaging.files import annotated_path, existing_file, file_sha256, list_files, load_image
from graphflow.node import Input, Node, Output, Outputs, node
from graphflow.outputs import MaskOutput
from graphflow.sockets import Image, Mask

if TYPE_CHECKING:
    from graphflow.context import NodeContext, Runtime


class ImageAndMask(Outputs):
    image: Image = Output(name="IMAGE")
    mask: Mask = Output(name="MASK")


def _input_images(runtime: Runtime) -> list[str]:
    return list_files(runtime.paths.input, images_only=True)


def _input_files(runtime: Runtime) -> list[str]:
    return list_files(runtime.paths.input, images_only=False)


class _ImageFile:
    """Shared hooks: the file must exist; its content hash is the fingerprint, so a replaced file re-runs."""

    @classmethod
    def validate(cls, runtime: Runtime, image: Any = None, **_: Any) -> dict[str, str] | None:
        if image is not None and existing_file(runtime.paths, image) is None:
            return {"image": f"Invalid image file: {image}"}
        return None

    @classmethod
    def fingerprint(cls, runtime: Runtime, image: Any = None, **_: Any) -> Any:
        path = existing_file(runtime.paths, image)
        return file_sha256(path) if path is not None else float("nan")


@node("LoadImage", display_name="Load Image", category="image", python_module="nodes", description="")
class LoadImage(_ImageFile, Node):
    """Load an image (all frames of an animation, batched) and its mask (1 - alpha, or 64x64 zeros)."""

    image: str = Input(options=_input_images, checked_by_node=True, ui={"image_upload": True})

    def run(self, ctx: NodeContext) -> ImageAndMask:
        return ImageAndMask(*load_image(annotated_path(ctx.paths, self.image)))


CHANNELS = ("alpha", "red", "green", "blue")


@node(
    "LoadImageMask",
    display_name="Load Image (as Mask)",
    category="mask",
    python_module="nodes",
    description="",
)
class LoadImageMask(_ImageFile, Node):
    """One channel of an image file as a MASK ``[1, H, W]``; ``alpha`` is inverted (1 - a)."""

    image: str = Input(options=_input_files, checked_by_node=True, ui={"image_upload": True})
    channel: str = Input(options=CHANNELS)

    def run(self, ctx: NodeContext) -> MaskOutput:
        from PIL import Image as PILImage
        from PIL import ImageOps

        with PILImage.open(annotated_path(ctx.paths, self.image)) as opened:
            frame = ImageOps.exif_transpose(opened) or opened
            if frame.mode.startswith("I"):  # 16-bit: bring it to 8 bits first
                frame = PILImage.fromarray(
                    (np.asarray(frame, dtype=np.float32) / 257.0).clip(0, 255).astype(np.uint8)
                )
            frame = frame.convert("RGBA")
            band = "RGBA"[CHANNELS.index(self.channel) - 1] if self.channel != "alpha" else "A"
            values = np.asarray(frame.getchannel(band), dtype=np.float32) / 255.0
        mask = torch.from_numpy(values.copy())
        return MaskOutput((1.0 - mask if self.channel == "alpha" else mask).unsqueeze(0))
