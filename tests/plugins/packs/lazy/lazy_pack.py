"""Lazy inputs: ``check_lazy_status`` asks only for the inputs it needs."""


class Pick:
    """Returns ``first`` when ``use_second`` is false, else ``second``; evaluates only that one."""

    CATEGORY = "testing/lazy"
    RETURN_TYPES = ("INT",)
    FUNCTION = "pick"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "use_second": ("BOOLEAN", {"default": False}),
                "first": ("INT", {"lazy": True}),
                "second": ("INT", {"lazy": True}),
            }
        }

    def check_lazy_status(self, use_second, first=None, second=None):
        wanted = "second" if use_second else "first"
        return [wanted] if (second if use_second else first) is None else []

    def pick(self, use_second, first=None, second=None):
        return (second if use_second else first,)


class AsyncPick(Pick):
    """The same with an ``async def check_lazy_status``."""

    async def check_lazy_status(self, use_second, first=None, second=None):
        return Pick.check_lazy_status(self, use_second, first, second)


NODE_CLASS_MAPPINGS = {"LazyPick": Pick, "LazyAsyncPick": AsyncPick}


class PickList:
    """INPUT_IS_LIST with lazy inputs: check_lazy_status sees whole lists, like the function."""

    CATEGORY = "testing/lazy"
    RETURN_TYPES = ("INT",)
    OUTPUT_IS_LIST = (True,)
    INPUT_IS_LIST = True
    FUNCTION = "pick"

    @classmethod
    def INPUT_TYPES(cls):
        return Pick.INPUT_TYPES()

    def check_lazy_status(self, use_second, first=None, second=None):
        assert isinstance(use_second, list), use_second
        chosen = second if use_second[0] else first
        unevaluated = chosen is None or chosen == [None]
        return ["second" if use_second[0] else "first"] if unevaluated else []

    def pick(self, use_second, first=None, second=None):
        return (second if use_second[0] else first,)


NODE_CLASS_MAPPINGS["LazyPickList"] = PickList
