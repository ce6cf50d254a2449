"""IS_CHANGED in its common forms: constant, NaN, raising, and a file fingerprint (like LoadImage)."""

import hashlib
from pathlib import Path

SEEN = []


class _Counter:
    CATEGORY = "testing/is_changed"
    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0})}, "optional": {"upstream": ("INT",)}}

    def run(self, value, upstream=0):
        return (value + upstream,)


class Stable(_Counter):
    @classmethod
    def IS_CHANGED(cls, value, upstream=None):
        SEEN.append({"value": value, "upstream": upstream})
        return False


class Volatile(_Counter):
    @classmethod
    def IS_CHANGED(cls, **kwargs):
        return float("nan")


class Broken(_Counter):
    @classmethod
    def IS_CHANGED(cls, **kwargs):
        raise RuntimeError("cannot tell")


class ReadFile:
    CATEGORY = "testing/is_changed"
    RETURN_TYPES = ("STRING",)
    FUNCTION = "read"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"path": ("STRING", {"default": ""})}}

    @classmethod
    def IS_CHANGED(cls, path):
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()

    def read(self, path):
        return (Path(path).read_text(),)


NODE_CLASS_MAPPINGS = {
    "ChangedStable": Stable,
    "ChangedVolatile": Volatile,
    "ChangedBroken": Broken,
    "ChangedReadFile": ReadFile,
}
