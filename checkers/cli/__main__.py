"""``python -m latentcheck.checkers.cli``: the same as the ``latentcheck`` console script."""

from .console import console_main

console_main()
