"""Moved to :mod:`latentcheck.theorems.domains` (issue 18); this re-export stays only until ``cli_falsify.py``
imports it from there (the CLI's files were being changed on another branch)."""

from latentcheck.theorems.domains import *  # noqa: F401,F403
from latentcheck.theorems.domains import __all__  # noqa: F401
