"""INPUT_IS_LIST / OUTPUT_IS_LIST and the mapping of ordinary nodes over list values."""


class MakeList:
    """``count`` numbers from ``start``, as a list output (downstream nodes run once per number)."""

    CATEGORY = "testing/lists"
    RETURN_TYPES = ("INT", "INT")
    RETURN_NAMES = ("numbers", "count")
    OUTPUT_IS_LIST = (True, False)
    FUNCTION = "make"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"count": ("INT", {"default": 3, "min": 0}), "start": ("INT", {"default": 1})}}

    def make(self, count, start):
        return (list(range(start, start + count)), count)


class AddPair:
    """An ordinary node: called once per item; ui entries are concatenated across calls."""

    CATEGORY = "testing/lists"
    RETURN_TYPES = ("INT",)
    FUNCTION = "add"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"a": ("INT", {"default": 0}), "b": ("INT", {"default": 0})}}

    def add(self, a, b):
        return {"ui": {"text": [f"{a}+{b}"]}, "result": (a + b,)}


class Total:
    """INPUT_IS_LIST: called once with every input as a list (widget values included)."""

    CATEGORY = "testing/lists"
    RETURN_TYPES = ("INT",)
    FUNCTION = "total"
    INPUT_IS_LIST = True
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"values": ("INT",), "scale": ("INT", {"default": 1})}}

    def total(self, values, scale):
        assert isinstance(values, list) and isinstance(scale, list)
        return {"ui": {"text": [f"{values}x{scale}"]}, "result": (sum(values) * scale[0],)}


NODE_CLASS_MAPPINGS = {"ListMake": MakeList, "ListAddPair": AddPair, "ListTotal": Total}
