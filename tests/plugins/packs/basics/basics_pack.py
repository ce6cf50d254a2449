"""Class attributes and object_info: inputs of every kind, names, tooltips, hidden inputs, flags."""

from comfy.comfy_types import IO


class AnyType(str):
    """The "any type" trick packs use: equal to every type name."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = str.__hash__


class Describe:
    DESCRIPTION = "Repeat a word and say who asked."
    CATEGORY = "testing/basics"
    RETURN_TYPES = ("STRING", IO.INT)
    RETURN_NAMES = ("text", "calls")
    OUTPUT_TOOLTIPS = ("The repeated word.", "How often this node instance ran.")
    FUNCTION = "describe"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "word": ("STRING", {"default": "hi"}),
                "times": (IO.INT, {"default": 1, "min": 1, "max": 5}),
                "mode": (["plain", "loud"], {"default": "plain"}),
                "style": ("COMBO", {"options": ["dash", "space"], "default": "space"}),
            },
            "optional": {"suffix": (AnyType("*"),)},
            "hidden": {"prompt": "PROMPT", "unique_id": "UNIQUE_ID", "extra_pnginfo": "EXTRA_PNGINFO"},
        }

    def __init__(self):
        self.calls = 0

    def describe(self, word, times, mode, style, prompt, unique_id, extra_pnginfo, suffix="!"):
        self.calls += 1
        text = ("-" if style == "dash" else " ").join([word] * times) + str(suffix)
        if mode == "loud":
            text = text.upper()
        seen = f"node {unique_id} of {len(prompt)} nodes, pnginfo {sorted(extra_pnginfo or {})}"
        return {"ui": {"text": [seen]}, "result": (text, self.calls)}


class ShowText:
    CATEGORY = "testing/basics"
    RETURN_TYPES = ()
    FUNCTION = "show"
    OUTPUT_NODE = True
    DEPRECATED = True
    EXPERIMENTAL = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"text": ("STRING", {"forceInput": True})}}

    def show(self, text):
        return {"ui": {"text": [text]}}


class Bare:
    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {}}

    def run(self):
        return (7,)


NODE_CLASS_MAPPINGS = {"BasicsDescribe": Describe, "BasicsShowText": ShowText, "BasicsBare": Bare}
NODE_DISPLAY_NAME_MAPPINGS = {"BasicsDescribe": "Describe (basics)"}
