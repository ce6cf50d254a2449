"""Inputs present in a prompt but not declared in INPUT_TYPES."""


class VariadicSum:
    """Declares one input; takes any number more through ``**kwargs`` (like ComfyUI's variadic nodes)."""

    CATEGORY = "testing/undeclared"
    RETURN_TYPES = ("INT",)
    FUNCTION = "total"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"input1": ("INT",)}}

    def total(self, input1, **others):
        total = input1 + sum(others.values())
        return {"ui": {"text": [f"{total} from {['input1', *sorted(others)]}"]}, "result": (total,)}


class Strict:
    """No ``**kwargs``: undeclared inputs are not passed (ComfyUI would raise a TypeError here)."""

    CATEGORY = "testing/undeclared"
    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"a": ("INT", {"default": 0})}}

    def run(self, a):
        return (a,)


NODE_CLASS_MAPPINGS = {"UndeclaredSum": VariadicSum, "UndeclaredStrict": Strict}
