"""Derive the CLIP BPE tokenizer files that graphflow ships (vocab.json, merges.txt).

The source is the MIT-licensed merge list ``open_clip/bpe_simple_vocab_16e6.txt.gz`` inside the
``open-clip-torch`` wheel on PyPI. open_clip is not a run-time dependency: this script fetches the wheel
once with ``pip download`` (or takes a path to it), reads that single file and writes the two files in the
format ``transformers.CLIPTokenizer`` reads.

Usage::

    python scripts/make_clip_tokenizer.py                 # downloads open-clip-torch==3.3.0 with pip
    python scripts/make_clip_tokenizer.py --wheel path/to/open_clip_torch-3.3.0-py3-none-any.whl

The vocabulary is built as OpenAI's CLIP tokenizer builds it: the 256 byte symbols, the same symbols with
the end-of-word marker ``</w>``, one entry per merge, then the two special tokens (49408 entries in all,
``<|startoftext|>`` = 49406 and ``<|endoftext|>`` = 49407).
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL_REQUIREMENT = "open-clip-torch==3.3.0"
MEMBER = "open_clip/bpe_simple_vocab_16e6.txt.gz"
MERGE_COUNT = 49152 - 256 - 2  # the merges CLIP actually uses
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "graphflow" / "data" / "clip_tokenizer"


def byte_symbols() -> list[str]:
    """The 256 printable stand-ins for raw bytes used by byte-level BPE, in CLIP's vocabulary order.

    Printable Latin-1 bytes stand for themselves and come first, in byte order; every other byte is then
    given, in byte order, a code point from 256 upwards, so that no symbol is whitespace or a control
    character.
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    others = [byte for byte in range(256) if byte not in set(printable)]
    return [chr(byte) for byte in printable] + [chr(256 + n) for n in range(len(others))]


def build(merge_lines: list[str]) -> tuple[dict[str, int], list[str]]:
    merges = [line for line in merge_lines[1 : MERGE_COUNT + 1]]  # line 0 is a version header
    if len(merges) != MERGE_COUNT:
        raise SystemExit(f"expected {MERGE_COUNT} merges, found {len(merges)}")
    base = byte_symbols()
    tokens = base + [symbol + "</w>" for symbol in base]
    tokens += ["".join(pair.split(" ")) for pair in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    return {token: index for index, token in enumerate(tokens)}, merges


def fetch_wheel(directory: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(directory), WHEEL_REQUIREMENT],
        check=True,
    )
    return next(directory.glob("open_clip_torch-*.whl"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--wheel", type=Path, help="path to an open_clip_torch wheel (default: pip download)")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(Path(tmp))
        with zipfile.ZipFile(wheel) as archive:
            text = gzip.decompress(archive.read(MEMBER)).decode("utf-8")
    vocab, merges = build(text.split("\n"))

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "vocab.json").write_text(
        json.dumps(vocab, ensure_ascii=False, separators=(",", ":")), "utf-8"
    )
    (args.out / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", "utf-8")
    (args.out / "SOURCE.txt").write_text(
        f"Derived by scripts/make_clip_tokenizer.py from {MEMBER} in the {WHEEL_REQUIREMENT} wheel (MIT licence).\n"
        f"{len(vocab)} tokens, {len(merges)} merges.\n",
        "utf-8",
    )
    print(f"wrote {len(vocab)} tokens and {len(merges)} merges to {args.out}")


if __name__ == "__main__":
    main()
