"""An ``async def`` FUNCTION that sleeps, and a sync node joining the results."""

import asyncio

EVENTS = []


class Sleep:
    CATEGORY = "testing/async"
    RETURN_TYPES = ("STRING",)
    FUNCTION = "sleep"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"label": ("STRING", {"default": "a"}), "seconds": ("FLOAT", {"default": 0.1})}}

    async def sleep(self, label, seconds):
        EVENTS.append(("start", label))
        await asyncio.sleep(seconds)
        EVENTS.append(("finish", label))
        return (label,)


class Join:
    CATEGORY = "testing/async"
    RETURN_TYPES = ()
    FUNCTION = "join"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"a": ("STRING",), "b": ("STRING",), "c": ("STRING",)}}

    def join(self, a, b, c):
        EVENTS.append(("join", a + b + c))
        return {"ui": {"text": [a + b + c]}}


NODE_CLASS_MAPPINGS = {"AsyncSleep": Sleep, "AsyncJoin": Join}
