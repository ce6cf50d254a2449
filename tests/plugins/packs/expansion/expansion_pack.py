"""Node expansion with GraphBuilder, rawLink inputs, and a loop that copies its body through DYNPROMPT."""

from comfy_execution.graph_utils import GraphBuilder, is_link


class Multiply:
    CATEGORY = "testing/expansion"
    RETURN_TYPES = ("INT",)
    FUNCTION = "multiply"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"a": ("INT", {"default": 0}), "b": ("INT", {"default": 1})}}

    def multiply(self, a, b):
        return (a * b,)


class DoubleViaGraph:
    """Doubles odd numbers by expanding into a Multiply node; even numbers are returned as they are."""

    CATEGORY = "testing/expansion"
    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0})}}

    def run(self, value):
        if value % 2 == 0:
            return (value,)
        graph = GraphBuilder()
        product = graph.node("ExpMultiply", a=value, b=2)
        return {"result": (product.out(0),), "expand": graph.finalize()}


class TwiceRaw:
    """Receives its input as a link (rawLink) and wires a new node to it: no dependency of its own."""

    CATEGORY = "testing/expansion"
    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"source": ("INT", {"rawLink": True})}}

    def run(self, source):
        assert is_link(source), source
        graph = GraphBuilder()
        product = graph.node("ExpMultiply", a=source, b=2)
        return {"result": (product.out(0),), "expand": graph.finalize()}


class MakeCycle:
    CATEGORY = "testing/expansion"
    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {}}

    def run(self):
        graph = GraphBuilder()
        first = graph.node("ExpMultiply", b=1)
        second = graph.node("ExpMultiply", a=first.out(0), b=1)
        first.set_input("a", second.out(0))
        return {"result": (second.out(0),), "expand": graph.finalize()}


class LoopOpen:
    CATEGORY = "testing/expansion"
    RETURN_TYPES = ("FLOW_CONTROL", "INT", "INT")
    RETURN_NAMES = ("flow", "remaining", "value")
    FUNCTION = "open"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {"remaining": ("INT", {"default": 1, "min": 1}), "value": ("INT", {"default": 0})}
        }

    def open(self, remaining, value):
        return ("loop", remaining, value)


class LoopClose:
    """Runs the nodes between LoopOpen and itself ``remaining`` times, copying them by expansion."""

    CATEGORY = "testing/expansion"
    RETURN_TYPES = ("INT",)
    FUNCTION = "close"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "flow": ("FLOW_CONTROL", {"rawLink": True}),
                "remaining": ("INT",),
                "value": ("INT",),
            },
            "hidden": {"dynprompt": "DYNPROMPT", "unique_id": "UNIQUE_ID"},
        }

    def close(self, flow, remaining, value, dynprompt, unique_id):
        if remaining <= 1:
            return (value,)
        open_id = flow[0]
        body = self._between(dynprompt, open_id, unique_id)
        graph = GraphBuilder()
        for node_id in body:
            original = dynprompt.get_node(node_id)
            copy = graph.node(original["class_type"], "Recurse" if node_id == unique_id else node_id)
            copy.set_override_display_id(dynprompt.get_display_node_id(node_id))
        for node_id in body:
            original = dynprompt.get_node(node_id)
            copy = graph.lookup_node("Recurse" if node_id == unique_id else node_id)
            for name, value_in in original["inputs"].items():
                if is_link(value_in) and value_in[0] in body:
                    source = graph.lookup_node("Recurse" if value_in[0] == unique_id else value_in[0])
                    copy.set_input(name, source.out(value_in[1]))
                else:
                    copy.set_input(name, value_in)
        opened = graph.lookup_node(open_id)
        opened.set_input("remaining", remaining - 1)
        opened.set_input("value", value)
        return {"result": (graph.lookup_node("Recurse").out(0),), "expand": graph.finalize()}

    @staticmethod
    def _between(dynprompt, open_id, close_id):
        ancestors, stack = set(), [close_id]
        while stack:
            for value in dynprompt.get_node(stack.pop())["inputs"].values():
                if is_link(value) and value[0] not in ancestors:
                    ancestors.add(value[0])
                    stack.append(value[0])
        body, grown = {open_id, close_id}, True
        while grown:
            grown = False
            for node_id in ancestors - body:
                inputs = dynprompt.get_node(node_id)["inputs"].values()
                if any(is_link(v) and v[0] in body for v in inputs):
                    body.add(node_id)
                    grown = True
        return sorted(body)


class RangeViaGraph:
    """A list output resolved from an expanded node (the lists pack's ListMake)."""

    CATEGORY = "testing/expansion"
    RETURN_TYPES = ("INT",)
    OUTPUT_IS_LIST = (True,)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"count": ("INT", {"default": 3})}}

    def run(self, count):
        graph = GraphBuilder()
        made = graph.node("ListMake", count=count, start=1)
        return {"result": (made.out(0),), "expand": graph.finalize()}


NODE_CLASS_MAPPINGS = {
    "ExpRangeViaGraph": RangeViaGraph,
    "ExpMultiply": Multiply,
    "ExpDoubleOdd": DoubleViaGraph,
    "ExpTwiceRaw": TwiceRaw,
    "ExpMakeCycle": MakeCycle,
    "ExpLoopOpen": LoopOpen,
    "ExpLoopClose": LoopClose,
}
