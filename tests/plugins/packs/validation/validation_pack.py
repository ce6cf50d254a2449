"""VALIDATE_INPUTS and its skip rules (named inputs, **kwargs, input_types), results and async hooks."""


class _Show:
    CATEGORY = "testing/validation"
    RETURN_TYPES = ("STRING",)
    FUNCTION = "run"
    OUTPUT_NODE = True

    def run(self, **kwargs):
        text = ", ".join(f"{k}={kwargs[k]!r}" for k in sorted(kwargs))
        return {"ui": {"text": [text]}, "result": (text,)}


class EvenAmount(_Show):
    """``amount`` is named in VALIDATE_INPUTS: its min/max are not checked; ``other``'s still are."""

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "amount": ("INT", {"default": 0, "min": 0, "max": 10}),
                "other": ("INT", {"default": 0, "min": 0, "max": 10}),
            }
        }

    @classmethod
    def VALIDATE_INPUTS(cls, amount):
        return True if amount % 2 == 0 else "odd amounts are not allowed"


class NoSevens(_Show):
    """``**kwargs``: no built-in min/max/choice checks at all."""

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "number": ("INT", {"default": 0, "min": 0, "max": 10}),
                "flavour": (["sweet", "sour"],),
            }
        }

    @classmethod
    def VALIDATE_INPUTS(cls, **kwargs):
        return "7s are not allowed" if kwargs.get("number") == 7 else True


class FloatOnly(_Show):
    """``input_types``: link type checks are skipped; the hook sees what is linked."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("FLOAT",)}}

    @classmethod
    def VALIDATE_INPUTS(cls, input_types):
        received = input_types.get("value")
        return True if received in (None, "FLOAT") else f"value must be a FLOAT, got {received}"


class UnionFloat(_Show):
    """Like ComfyUI's TestCustomValidation1: a union type is not coerced, the hook checks it."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"input1": ("IMAGE,FLOAT",), "input2": ("IMAGE,FLOAT",)}}

    @classmethod
    def VALIDATE_INPUTS(cls, input1=None, input2=None):
        if input1 is not None and not isinstance(input1, float):
            return f"Invalid type of input1: {type(input1)}"
        return True


class Refuses(_Show):
    """Returns False: each error names only the input."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"anything": ("STRING", {"default": ""})}}

    @classmethod
    def VALIDATE_INPUTS(cls, anything):
        return anything != "no" or False


class AsyncCheck(_Show):
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"word": ("STRING", {"default": ""})}}

    @classmethod
    async def VALIDATE_INPUTS(cls, word):
        return True if word.isalpha() else f"{word!r} is not a word"


NODE_CLASS_MAPPINGS = {
    "ValEvenAmount": EvenAmount,
    "ValNoSevens": NoSevens,
    "ValFloatOnly": FloatOnly,
    "ValUnionFloat": UnionFloat,
    "ValRefuses": Refuses,
    "ValAsyncCheck": AsyncCheck,
}
