"""NOT_IDEMPOTENT (and a hidden UNIQUE_ID) put the node id into the cache key."""


class _Echo:
    CATEGORY = "testing/idempotence"
    RETURN_TYPES = ("INT",)
    FUNCTION = "echo"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0})}}

    def echo(self, value, **hidden):
        return (value,)


class Plain(_Echo):
    pass


class NotIdempotent(_Echo):
    NOT_IDEMPOTENT = True


class WantsId(_Echo):
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0})}, "hidden": {"unique_id": "UNIQUE_ID"}}


NODE_CLASS_MAPPINGS = {"IdemPlain": Plain, "IdemNot": NotIdempotent, "IdemWantsId": WantsId}
