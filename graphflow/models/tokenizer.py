"""The CLIP BPE tokenizer shipped with graphflow (derived by scripts/make_clip_tokenizer.py)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

TOKENIZER_DIR = Path(__file__).resolve().parent.parent / "data" / "clip_tokenizer"
START_TOKEN_ID = 49406
END_TOKEN_ID = 49407
MAX_LENGTH = 77


@lru_cache(maxsize=4)
def clip_tokenizer(pad_token: str = "<|endoftext|>") -> Any:
    """A ``transformers.CLIPTokenizer`` over the shipped vocabulary; never touches the network.

    ``pad_token`` is ``"<|endoftext|>"`` for CLIP-L; OpenCLIP encoders (SD2, SDXL's bigG) pad with id 0,
    which is the token ``"!"``.
    """
    from transformers import CLIPTokenizer

    return CLIPTokenizer(
        vocab=str(TOKENIZER_DIR / "vocab.json"),
        merges=str(TOKENIZER_DIR / "merges.txt"),
        pad_token=pad_token,
        model_max_length=MAX_LENGTH,
    )
