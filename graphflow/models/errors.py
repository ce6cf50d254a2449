"""Errors raised while reading, recognising and loading model files.

Each message names the file, what was looked for, and what the user can do about it.
"""

from __future__ import annotations


class ModelFileError(ValueError):
    """A model file cannot be read: missing, truncated, not a known format, or refused (pickled code)."""


class UnsupportedModelError(ModelFileError):
    """A model file was read but its architecture is not one graphflow can run."""


class ModelNotFoundError(FileNotFoundError):
    """A model name does not exist in any of the searched folders."""
