"""ExecutionBlocker: silent, with a message, and per item of a list."""

from comfy_execution.graph import ExecutionBlocker


class Gate:
    CATEGORY = "testing/blockers"
    RETURN_TYPES = ("INT",)
    FUNCTION = "gate"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "value": ("INT", {"default": 0}),
                "blocked": ("INT", {"default": -1}),
                "message": ("STRING", {"default": ""}),
            }
        }

    def gate(self, value, blocked, message):
        if value == blocked:
            return (ExecutionBlocker(message or None),)
        return (value,)


class BlockEverything:
    CATEGORY = "testing/blockers"
    RETURN_TYPES = ("INT", "INT")
    FUNCTION = "block"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {}}

    def block(self):
        return ExecutionBlocker(None)


class Show:
    CATEGORY = "testing/blockers"
    RETURN_TYPES = ()
    FUNCTION = "show"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT",)}}

    def show(self, value):
        return {"ui": {"text": [str(value)]}}


NODE_CLASS_MAPPINGS = {"BlockGate": Gate, "BlockEverything": BlockEverything, "BlockShow": Show}
