"""ComfyUI prompt weighting syntax: ``(word:1.2)``, ``(word)``, ``[word]`` and escaped brackets.

Rules (ComfyUI's, plus A1111's square brackets):

- ``(text)`` multiplies the weight of ``text`` by 1.1; groups nest, so ``((text))`` is 1.21.
- ``(text:1.3)`` sets the weight of ``text`` to 1.3 (it replaces the weight inherited from outer groups).
  The weight is the number after the group's last top-level ``:``; if that is not a number the colon is text.
- ``[text]`` divides the weight by 1.1.
- ``\\(``, ``\\)``, ``\\[``, ``\\]`` and ``\\\\`` are literal characters.
- A bracket that is never closed, or a closing bracket without an opener, is literal text.

:func:`parse_prompt` returns ``(text, weight)`` segments with neighbouring equal weights merged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

UP = 1.1
OPENERS = {"(": ")", "[": "]"}
ESCAPABLE = "()[]\\"


@dataclass
class _Group:
    opener: str
    children: list[str | _Group] = field(default_factory=list)


def _tree(text: str) -> list[str | _Group]:
    """Parse into text runs and bracket groups; unbalanced brackets become text."""
    root = _Group("")
    stack = [root]
    run: list[str] = []

    def flush() -> None:
        if run:
            stack[-1].children.append("".join(run))
            run.clear()

    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in ESCAPABLE:
            run.append(text[i + 1])
            i += 2
            continue
        if ch in OPENERS:
            flush()
            group = _Group(ch)
            stack[-1].children.append(group)
            stack.append(group)
        elif len(stack) > 1 and ch == OPENERS[stack[-1].opener]:
            flush()
            stack.pop()
        else:
            run.append(ch)
        i += 1
    flush()
    while len(stack) > 1:  # never closed: put the opener back as text, keep its content in place
        group = stack.pop()
        parent = stack[-1].children
        at = parent.index(group)
        parent[at : at + 1] = [group.opener, *group.children]
    return root.children


def _explicit_weight(children: list[str | _Group]) -> tuple[list[str | _Group], float | None]:
    """Split ``text:1.2`` off the end of a group's children, if present."""
    if not children or not isinstance(children[-1], str):
        return children, None
    last = children[-1]
    colon = last.rfind(":")
    if colon < 0:
        return children, None
    try:
        weight = float(last[colon + 1 :])
    except ValueError:
        return children, None
    head = last[:colon]
    return [*children[:-1], head] if head else list(children[:-1]), weight


def _flatten(children: list[str | _Group], weight: float, out: list[tuple[str, float]]) -> None:
    for child in children:
        if isinstance(child, str):
            out.append((child, weight))
            continue
        if child.opener == "[":
            _flatten(child.children, weight / UP, out)
            continue
        inner, explicit = _explicit_weight(child.children)
        _flatten(inner, explicit if explicit is not None else weight * UP, out)


def parse_prompt(text: str) -> list[tuple[str, float]]:
    """Split a prompt into ``(text, weight)`` segments.

    >>> parse_prompt("a (red:1.5) [cat]")
    [('a ', 1.0), ('red', 1.5), (' ', 1.0), ('cat', 0.9090909090909091)]
    """
    segments: list[tuple[str, float]] = []
    _flatten(_tree(text), 1.0, segments)
    merged: list[tuple[str, float]] = []
    for piece, weight in segments:
        if not piece:
            continue
        if merged and merged[-1][1] == weight:
            merged[-1] = (merged[-1][0] + piece, weight)
        else:
            merged.append((piece, weight))
    return merged
