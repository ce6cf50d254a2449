"""Step 4 of the editor → API conversion: positional ``widgets_values`` → named inputs (workflow-formats.md §4.5).

A node's *widget slot list* is rebuilt from its ``/object_info`` definition the way the front end creates
widgets: one value slot per combo or scalar widget, a control slot after seeds and ``control_after_generate``
inputs, an upload slot for ``image_upload`` combos. The saved values are then zipped with it. Real files vary,
so the zip tries the layouts the front end has used over the years and picks the one that fits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

SCALAR_WIDGET_TYPES = frozenset({"INT", "FLOAT", "STRING", "BOOLEAN"})
CONTROL_VALUES = frozenset({"fixed", "increment", "decrement", "randomize", "increment-wrap"})
LEGACY_SEED_NAMES = frozenset({"seed", "noise_seed"})
#: Combo option → the literal the front end saves for its upload button.
UPLOAD_FLAGS = {
    "image_upload": "image",
    "video_upload": "video",
    "audio_upload": "audio",
    "file_upload": "file",
}

SlotKind = Literal["value", "control", "upload", "force"]
UploadPosition = Literal["after_section", "after_widget", "none"]


@dataclass(frozen=True)
class InputSpec:
    """One visible input of a node definition: ``[TYPE]`` or ``[TYPE, options]``."""

    name: str
    type: Any
    options: Mapping[str, Any]
    section: Literal["required", "optional"]

    @property
    def is_combo(self) -> bool:
        return isinstance(self.type, list) or self.type == "COMBO"

    @property
    def choices(self) -> list[Any]:
        if isinstance(self.type, list):
            return self.type
        choices = self.options.get("options")
        return list(choices) if isinstance(choices, (list, tuple)) else []

    @property
    def is_widget(self) -> bool:
        """True when the front end draws a widget (and saves a ``widgets_values`` entry) for this input."""
        if self.is_combo:
            return True
        return self.type in SCALAR_WIDGET_TYPES and not self.options.get("forceInput")

    @property
    def socket_type(self) -> str:
        """The type string a link into this input carries (combos are ``COMBO``)."""
        return "COMBO" if self.is_combo else str(self.type)

    @property
    def upload_value(self) -> str | None:
        if not self.is_combo:
            return None
        return next((value for flag, value in UPLOAD_FLAGS.items() if self.options.get(flag)), None)


@dataclass(frozen=True)
class WidgetSlot:
    """One entry of the saved ``widgets_values`` array. Only ``value`` slots reach the API prompt."""

    kind: SlotKind
    spec: InputSpec
    legacy: bool = False  # a control slot that exists only by the old seed-name rule


def input_specs(node_def: Mapping[str, Any]) -> list[InputSpec]:
    """The visible inputs of a definition, required then optional, in ``input_order`` (or key) order."""
    declared = node_def.get("input") or {}
    order = node_def.get("input_order") or {}
    specs: list[InputSpec] = []
    for section in ("required", "optional"):
        entries = declared.get(section) or {}
        names = [n for n in order.get(section) or () if n in entries] or list(entries)
        names += [n for n in entries if n not in names]
        for name in names:
            entry = entries[name]
            if isinstance(entry, (list, tuple)) and entry:
                options = entry[1] if len(entry) > 1 and isinstance(entry[1], Mapping) else {}
                type_ = entry[0] if isinstance(entry[0], (str, list)) else str(entry[0])
                specs.append(InputSpec(name, type_, options, section))
            elif isinstance(entry, str):
                specs.append(InputSpec(name, entry, {}, section))
    return specs


def _has_control(spec: InputSpec) -> tuple[bool, bool]:
    """(has a control slot, only by the legacy seed-name rule)."""
    flagged = bool(spec.options.get("control_after_generate")) and (spec.type == "INT" or spec.is_combo)
    legacy = spec.type == "INT" and spec.name in LEGACY_SEED_NAMES
    return flagged or legacy, legacy and not flagged


def build_widget_slots(
    node_def: Mapping[str, Any],
    *,
    legacy_seed_controls: bool = True,
    upload: UploadPosition = "after_section",
    include_force_inputs: bool = False,
) -> list[WidgetSlot]:
    """The widget slot list of a node definition.

    ``upload`` places upload-button slots after the last widget of their section (where the front end appends
    them), right after their combo, or nowhere. ``include_force_inputs`` adds a ``force`` slot for each
    ``forceInput`` scalar, the layout some old front ends saved.
    """
    slots: list[WidgetSlot] = []
    pending_uploads: list[WidgetSlot] = []
    section = "required"
    for spec in input_specs(node_def):
        if spec.section != section:
            slots.extend(pending_uploads)
            pending_uploads, section = [], spec.section
        if spec.is_widget:
            slots.append(WidgetSlot("value", spec))
        elif include_force_inputs and spec.type in SCALAR_WIDGET_TYPES:
            slots.append(WidgetSlot("force", spec))
        else:
            continue
        has_control, legacy = _has_control(spec)
        if has_control and (legacy_seed_controls or not legacy):
            slots.append(WidgetSlot("control", spec, legacy=legacy))
        if spec.upload_value is not None and upload == "after_widget":
            slots.append(WidgetSlot("upload", spec))
        elif spec.upload_value is not None and upload == "after_section":
            pending_uploads.append(WidgetSlot("upload", spec))
    slots.extend(pending_uploads)
    return slots


def widget_default(spec: InputSpec) -> Any:
    """The value a fresh widget shows: the declared default, else the first choice / 0 / "" / false."""
    if "default" in spec.options:
        return spec.options["default"]
    if spec.is_combo:
        choices = spec.choices
        return choices[0] if choices else None
    if spec.type in ("INT", "FLOAT"):
        low = spec.options.get("min")
        return low if isinstance(low, (int, float)) and low > 0 else 0
    return {"STRING": "", "BOOLEAN": False}.get(spec.type)


def api_value(value: Any) -> Any:
    """A widget value as the API prompt carries it: lists are wrapped so they do not read as links."""
    return {"__value__": list(value)} if isinstance(value, (list, tuple)) else value


def is_control_value(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value in CONTROL_VALUES)


def _is_upload_value(spec: InputSpec, value: Any) -> bool:
    """The image upload button saves ``"image"``; other upload buttons save some string."""
    return value == "image" if spec.options.get("image_upload") else isinstance(value, str)


def _plausible(layout: Sequence[WidgetSlot], values: Sequence[Any]) -> bool:
    for slot, value in zip(layout, values, strict=True):
        if slot.kind == "control" and not is_control_value(value):
            return False
        if slot.kind == "upload" and not _is_upload_value(slot.spec, value):
            return False
    return True


def _candidate_layouts(node_def: Mapping[str, Any]) -> list[list[WidgetSlot]]:
    """Layouts in order of preference: the current one first, then the leniency variants of §4.5."""
    layouts: list[list[WidgetSlot]] = []
    uploads: tuple[UploadPosition, ...] = ("after_section", "after_widget", "none")
    for force in (False, True):
        for upload in uploads:
            for legacy in (True, False):
                layout = build_widget_slots(
                    node_def, legacy_seed_controls=legacy, upload=upload, include_force_inputs=force
                )
                if layout not in layouts:
                    layouts.append(layout)
    return layouts


def _assign_adaptively(layout: Sequence[WidgetSlot], values: Sequence[Any]) -> list[tuple[WidgetSlot, Any]]:
    """Zip when no layout fits exactly: a control or upload slot is taken only when the value looks like one."""
    pairs: list[tuple[WidgetSlot, Any]] = []
    position = 0
    for index, slot in enumerate(layout):
        if position >= len(values):
            break
        value = values[position]
        if slot.kind == "control" and not is_control_value(value):
            continue
        if slot.kind == "upload":
            value_slots_left = sum(1 for later in layout[index + 1 :] if later.kind == "value")
            if not _is_upload_value(slot.spec, value) or len(values) - position <= value_slots_left:
                continue
        pairs.append((slot, value))
        position += 1
    return pairs


def zip_widget_values(node_def: Mapping[str, Any], values: Sequence[Any]) -> list[tuple[WidgetSlot, Any]]:
    """Pair saved positional values with widget slots, choosing the layout that fits the saved length."""
    layouts = _candidate_layouts(node_def)
    same_length = [layout for layout in layouts if len(layout) == len(values)]
    for layout in same_length:
        if _plausible(layout, values):
            return list(zip(layout, values, strict=True))
    if same_length:
        return list(zip(same_length[0], values, strict=True))
    return _assign_adaptively(layouts[0], values)


def widget_inputs(
    node_def: Mapping[str, Any],
    widgets_values: Any,
    widgets_values_named: Any = None,
    *,
    where: str,
    warnings: list[str],
) -> dict[str, Any]:
    """The API ``inputs`` a node's saved widget values give, by input name.

    ``widgets_values_named`` (or an object-form ``widgets_values``) is used directly when present. Values
    that are missing or ``null`` fall back to the definition's default, with a warning naming ``where``.
    """
    value_specs = [slot.spec for slot in build_widget_slots(node_def) if slot.kind == "value"]
    found: dict[str, Any] = {}
    named = widgets_values_named if isinstance(widgets_values_named, Mapping) else None
    if named is None and isinstance(widgets_values, Mapping):
        named = widgets_values
    if named is not None:
        found = {spec.name: named[spec.name] for spec in value_specs if spec.name in named}
    elif isinstance(widgets_values, (list, tuple)):
        found = {
            slot.spec.name: value
            for slot, value in zip_widget_values(node_def, widgets_values)
            if slot.kind == "value"
        }
    elif value_specs:
        warnings.append(f"{where}: no saved widget values; using the definition's defaults")
    saved_any = named is not None or isinstance(widgets_values, (list, tuple))
    inputs: dict[str, Any] = {}
    for spec in value_specs:
        value = found.get(spec.name)
        if value is None:
            default = widget_default(spec)
            if default is None:
                continue
            if saved_any:
                reason = "has no saved value" if spec.name not in found else "is saved as null"
                warnings.append(f"{where}: widget {spec.name!r} {reason}; using the default {default!r}")
            value = default
        inputs[spec.name] = api_value(value)
    return inputs
