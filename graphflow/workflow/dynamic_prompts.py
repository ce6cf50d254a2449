"""Dynamic prompts: the text rewriting the front end applies to ``dynamicPrompts`` STRING widgets at queue time.

Grammar, as in ``processDynamicPrompt`` of the front end (``formatUtil``, 1.27 through 1.58):

1. C-style comments are removed first: ``/* ... */`` (across lines) and ``// ...`` up to the end of the line.
   This also cuts ``//`` inside URLs, exactly as the front end does.
2. ``{a|b|c}`` is replaced by one option chosen uniformly at random. Options may be empty (``{a|}``) and may
   nest (``{a|{b|c}}``); the chosen option is processed again. An unclosed ``{`` runs to the end of the text.
3. A backslash escapes the next character. At the end ``\\{``, ``\\}`` and ``\\|`` become ``{``, ``}`` and
   ``|``; other escapes (``\\n`` as typed, ``\\\\``) keep their backslash.

A stray ``}`` outside a choice is kept as text.
"""

from __future__ import annotations

import random
import re

_COMMENTS = re.compile(r"/\*[\s\S]*?\*/|//[^\n\r\u2028\u2029]*")
_ESCAPED_SYNTAX = re.compile(r"\\([{}|])")


def strip_comments(text: str) -> str:
    """Remove ``/* */`` block comments and ``//`` line comments."""
    return _COMMENTS.sub("", text)


def resolve_dynamic_prompt(text: str, rng: random.Random) -> str:
    """Strip comments and resolve every ``{a|b}`` choice in ``text`` with ``rng``."""
    text = strip_comments(text)
    result: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        position += 1
        if char == "\\":
            result.append(char + text[position : position + 1])
            position += 1
        elif char == "{":
            chosen, position = _parse_choice(text, position, rng)
            result.append(chosen)
        else:
            result.append(char)
    return _ESCAPED_SYNTAX.sub(r"\1", "".join(result))


def _parse_choice(text: str, position: int, rng: random.Random) -> tuple[str, int]:
    """Read the options of a ``{...}`` block starting after its ``{``; return the resolved choice and the new index."""
    options: list[str] = []
    current: list[str] = []
    depth = 0
    while position < len(text):
        char = text[position]
        position += 1
        if char == "\\":
            current.append(char + text[position : position + 1])
            position += 1
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                break
            depth -= 1
        elif char == "|" and depth == 0:
            options.append("".join(current))
            current = []
            continue
        current.append(char)
    options.append("".join(current))
    return resolve_dynamic_prompt(options[rng.randrange(len(options))], rng), position
