"""Read a demo image back into words with plain pixel statistics (no learned model).

Steps: the background colour is the median of the image border; foreground pixels are those far from it;
the largest connected foreground region is the shape. Its median colour names the colour, the share of its
bounding box it fills names the shape (triangle ≈ 0.5, circle ≈ 0.79, square = 1), the box side names the size
and the box centre the position. Used by the evaluation script and by tests that check what images mean.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from PIL import Image

from graphflow.demo.shapes import BACKGROUNDS, COLOURS, GRID_CENTRES, POSITIONS, SIZE_THRESHOLD, Scene

FOREGROUND_DISTANCE = 60.0
"""RGB distance from the background above which a pixel counts as foreground."""

MIN_SHAPE_PIXELS = 40
"""A foreground region smaller than this is noise, not a shape."""

TRIANGLE_MAX_FILL = 0.64
CIRCLE_MAX_FILL = 0.89

_POSITION_BY_CELL = {cell: phrase for phrase, cell in POSITIONS.items()}


@dataclass(frozen=True)
class Reading:
    """What :func:`classify` sees. ``shape``/``colour``/``size``/``position`` are ``None`` when no shape is found.

    ``bbox`` is ``(left, top, right, bottom)`` in pixels, exclusive at right/bottom.
    """

    background: str
    colour: str | None
    shape: str | None
    size: str | None
    position: str | None
    bbox: tuple[int, int, int, int] | None
    fill_ratio: float | None

    def matches(self, scene: Scene) -> dict[str, bool]:
        """Per attribute, whether this reading agrees with ``scene``."""
        return {
            "colour": self.colour == scene.colour,
            "shape": self.shape == scene.shape,
            "size": self.size == scene.size,
            "position": self.position == scene.position,
            "background": self.background == scene.background,
        }


def _nearest(colour: np.ndarray, table: dict[str, tuple[int, int, int]]) -> str:
    names = list(table)
    distances = [float(np.linalg.norm(colour - np.asarray(table[name], dtype=np.float32))) for name in names]
    return names[int(np.argmin(distances))]


def _largest_region(mask: np.ndarray) -> np.ndarray:
    """Boolean mask of the largest 4-connected True region of ``mask`` (all False if none)."""
    height, width = mask.shape
    labels = np.zeros(mask.shape, dtype=np.int32)
    best_label, best_size, next_label = 0, 0, 0
    for start_y, start_x in zip(*np.nonzero(mask), strict=True):
        if labels[start_y, start_x]:
            continue
        next_label += 1
        labels[start_y, start_x] = next_label
        queue, size = deque([(start_y, start_x)]), 0
        while queue:
            y, x = queue.popleft()
            size += 1
            for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                if 0 <= ny < height and 0 <= nx < width and mask[ny, nx] and not labels[ny, nx]:
                    labels[ny, nx] = next_label
                    queue.append((ny, nx))
        if size > best_size:
            best_label, best_size = next_label, size
    return labels == best_label if best_label else np.zeros_like(mask)


def _cell(coordinate: float) -> int:
    """Grid row/column index whose centre is nearest to ``coordinate`` (pixels)."""
    return int(np.argmin([abs(coordinate - centre) for centre in GRID_CENTRES]))


def classify(image: Image.Image | np.ndarray) -> Reading:
    """Classify one demo image (PIL image or ``[H, W, 3]`` uint8/float-0..255 array, 128×128 expected)."""
    pixels = np.asarray(image.convert("RGB") if isinstance(image, Image.Image) else image, dtype=np.float32)
    border = np.concatenate(
        [
            pixels[:2].reshape(-1, 3),
            pixels[-2:].reshape(-1, 3),
            pixels[:, :2].reshape(-1, 3),
            pixels[:, -2:].reshape(-1, 3),
        ]
    )
    background_rgb = np.median(border, axis=0)
    background = _nearest(background_rgb, BACKGROUNDS)
    distance = np.linalg.norm(pixels - background_rgb, axis=-1)
    region = _largest_region(distance > FOREGROUND_DISTANCE)
    area = int(region.sum())
    if area < MIN_SHAPE_PIXELS:
        return Reading(background, None, None, None, None, None, None)
    ys, xs = np.nonzero(region)
    left, top, right, bottom = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    width, height = right - left, bottom - top
    fill_ratio = area / float(width * height)
    if fill_ratio < TRIANGLE_MAX_FILL:
        shape = "triangle"
    elif fill_ratio < CIRCLE_MAX_FILL:
        shape = "circle"
    else:
        shape = "square"
    # The core of the region (far from the background) holds the true colour; edges are blended.
    core = region & (distance > 0.5 * float(distance[region].max()))
    colour = _nearest(np.median(pixels[core], axis=0), COLOURS)
    size = "large" if max(width, height) > SIZE_THRESHOLD else "small"
    position = _POSITION_BY_CELL[(_cell((top + bottom) / 2), _cell((left + right) / 2))]
    return Reading(background, colour, shape, size, position, (left, top, right, bottom), fill_ratio)
