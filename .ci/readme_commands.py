"""Print the shell commands of a README block marked ``<!-- ci: NAME -->`` (the fenced block after it).

CI runs the README's own commands this way, so what a newcomer copies is exactly what CI checks.
Usage: python3 .ci/readme_commands.py setup|test [README.md]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

BLOCK = re.compile(r"<!--\s*ci:\s*(?P<name>[\w-]+)\s*-->\s*```(?:bash|sh|console)?\n(?P<body>.*?)```", re.S)


def blocks(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for match in BLOCK.finditer(text):
        found.setdefault(match["name"], []).append(match["body"])
    return found


def main() -> None:
    name = sys.argv[1]
    readme = Path(sys.argv[2] if len(sys.argv) > 2 else Path(__file__).resolve().parent.parent / "README.md")
    found = blocks(readme.read_text("utf-8")).get(name)
    if not found:
        raise SystemExit(f"README has no block marked <!-- ci: {name} -->")
    print("\n".join(found))


if __name__ == "__main__":
    main()
