"""The command-line wing: ``python -m toolkit sandbox|export|audit|lab``, each command a thin
layer over one call into the library (:mod:`~toolkit.cli.main` lists them)."""

from toolkit.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
