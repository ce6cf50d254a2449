"""Node packs: installed (``graphflow.nodes`` entry points) and folder packs, native or ComfyUI-classic.

- :func:`load_packs` finds and registers every pack (called by :func:`graphflow.bootstrap.create_runtime`).
- :func:`compile_classic` turns one ComfyUI V1 node class into a :class:`~graphflow.spec.NodeSpec`.
- :mod:`graphflow.plugins.web` gives the server the pack list and the packs' front-end files.
- :mod:`graphflow.plugins.compat` holds the stand-ins for the ComfyUI modules classic packs import.

See ``docs/node-packs.md`` for writing packs in both styles.
"""

from graphflow.plugins.classic import ClassicNodeError, ClassicNodeSpec, compile_classic
from graphflow.plugins.loader import load_packs, pack_folders

__all__ = ["ClassicNodeError", "ClassicNodeSpec", "compile_classic", "load_packs", "pack_folders"]
