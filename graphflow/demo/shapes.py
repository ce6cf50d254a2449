"""The demo model's world: coloured shapes on plain backgrounds, their captions and a deterministic renderer.

Every image is 128×128 RGB and shows one shape (circle, square or triangle) in one of six colours, at one of
two sizes and nine positions, on a white, black or gray background. A :class:`Scene` names those five
attributes; :func:`render` draws it with a small seeded jitter of size and position; :meth:`Scene.caption`
writes the sentence the model is trained on, e.g. ``"a small red circle in the top left on a white background"``.

The 972 possible scenes are split once and for all: :func:`held_out_scenes` (100 scenes) never appear in
training data, whatever the caption says, so the evaluation measures generalisation to new combinations.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw

IMAGE_SIZE = 128
"""Side of every rendered image in pixels (the demo VAE maps it to a 16×16 latent)."""

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "yellow": (245, 220, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 230),
    "purple": (150, 50, 200),
    "pink": (255, 150, 200),
}
"""Shape colours. Each name is one CLIP token, and the RGB values are far apart (≥ 145 in RGB distance)."""

BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "white": (255, 255, 255),
    "black": (0, 0, 0),
    "gray": (128, 128, 128),
}
"""Background colours, named in captions as ``"on a <name> background"``."""

SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
"""Shape names. Triangles point up; every shape's bounding box is a square of the drawn size."""

SIZES: dict[str, tuple[int, int]] = {"small": (22, 30), "large": (50, 58)}
"""Size word → inclusive range of the bounding-box side in pixels."""

SIZE_THRESHOLD = 40
"""A bounding box side above this many pixels reads as ``"large"`` (between the two ranges of SIZES)."""

GRID_CENTRES: tuple[int, int, int] = (34, 64, 94)
"""Pixel coordinate of the left/centre/right column (and top/middle/bottom row) centres."""

POSITION_JITTER = 4
"""Largest random offset of the shape centre from its grid centre, in pixels, along each axis."""

POSITIONS: dict[str, tuple[int, int]] = {
    "in the top left": (0, 0),
    "at the top": (0, 1),
    "in the top right": (0, 2),
    "on the left": (1, 0),
    "in the center": (1, 1),
    "on the right": (1, 2),
    "in the bottom left": (2, 0),
    "at the bottom": (2, 1),
    "in the bottom right": (2, 2),
}
"""Position phrase → (row, column) in the 3×3 grid."""

HELD_OUT_COUNT = 100
_SPLIT_SEED = 20240611
_SUPERSAMPLE = 4


@dataclass(frozen=True, order=True)
class Scene:
    """One combination of attributes; all fields are keys of the vocabulary tables above."""

    shape: str
    colour: str
    size: str
    position: str
    background: str

    def caption(self, *, size: bool = True, position: bool = True, background: bool = True) -> str:
        """The training sentence; the keyword flags leave a phrase out (the model then picks it freely)."""
        words = ["a"]
        if size:
            words.append(self.size)
        words += [self.colour, self.shape]
        if position:
            words.append(self.position)
        if background:
            words.append(f"on a {self.background} background")
        return " ".join(words)


def all_scenes() -> list[Scene]:
    """All 972 scenes in a fixed order."""
    return [
        Scene(shape, colour, size, position, background)
        for shape in SHAPES
        for colour in COLOURS
        for size in SIZES
        for position in POSITIONS
        for background in BACKGROUNDS
    ]


@lru_cache(maxsize=1)
def held_out_scenes() -> tuple[Scene, ...]:
    """The 100 evaluation scenes, chosen once with a fixed seed; none of them is ever rendered for training."""
    return tuple(sorted(random.Random(_SPLIT_SEED).sample(all_scenes(), HELD_OUT_COUNT)))


def training_scenes() -> list[Scene]:
    """The 872 scenes training data is drawn from (all scenes minus :func:`held_out_scenes`)."""
    held_out = set(held_out_scenes())
    return [scene for scene in all_scenes() if scene not in held_out]


@dataclass(frozen=True)
class Placement:
    """Where exactly a scene's shape lands: bounding-box side and centre in pixels."""

    side: int
    centre_x: int
    centre_y: int


def place(scene: Scene, rng: random.Random | None = None) -> Placement:
    """The shape's size and centre: the middle of the size range at the grid centre, or jittered by ``rng``."""
    low, high = SIZES[scene.size]
    row, column = POSITIONS[scene.position]
    if rng is None:
        return Placement((low + high) // 2, GRID_CENTRES[column], GRID_CENTRES[row])
    return Placement(
        rng.randint(low, high),
        GRID_CENTRES[column] + rng.randint(-POSITION_JITTER, POSITION_JITTER),
        GRID_CENTRES[row] + rng.randint(-POSITION_JITTER, POSITION_JITTER),
    )


def render(scene: Scene, placement: Placement | None = None) -> Image.Image:
    """Draw ``scene`` as a 128×128 RGB image, anti-aliased by drawing 4× larger and box-filtering down."""
    placement = placement or place(scene)
    scale = _SUPERSAMPLE
    canvas = Image.new("RGB", (IMAGE_SIZE * scale, IMAGE_SIZE * scale), BACKGROUNDS[scene.background])
    draw = ImageDraw.Draw(canvas)
    half = placement.side * scale / 2
    cx, cy = placement.centre_x * scale, placement.centre_y * scale
    box = (cx - half, cy - half, cx + half - 1, cy + half - 1)
    fill = COLOURS[scene.colour]
    if scene.shape == "circle":
        draw.ellipse(box, fill=fill)
    elif scene.shape == "square":
        draw.rectangle(box, fill=fill)
    elif scene.shape == "triangle":
        draw.polygon([(cx, box[1]), (box[2], box[3]), (box[0], box[3])], fill=fill)
    else:
        raise ValueError(f"unknown shape {scene.shape!r}; expected one of {SHAPES}")
    return canvas.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BOX)


@dataclass(frozen=True)
class Example:
    """One training or evaluation sample: the scene, its exact placement and the caption used."""

    scene: Scene
    placement: Placement
    caption: str

    def image(self) -> Image.Image:
        return render(self.scene, self.placement)


def training_examples(count: int, seed: int, phrase_dropout: float = 0.15) -> Iterator[Example]:
    """``count`` random training examples, identical for identical arguments.

    Each optional phrase (size, position, background) is left out of the caption with probability
    ``phrase_dropout`` so that short prompts such as ``"a red circle"`` also work.
    """
    rng = random.Random(seed)
    scenes = training_scenes()
    for _ in range(count):
        scene = rng.choice(scenes)
        placement = place(scene, rng)
        keep = [rng.random() >= phrase_dropout for _ in range(3)]
        yield Example(scene, placement, scene.caption(size=keep[0], position=keep[1], background=keep[2]))


def evaluation_examples() -> list[Example]:
    """The held-out scenes at their canonical placement, each with its full caption."""
    return [Example(scene, place(scene), scene.caption()) for scene in held_out_scenes()]
