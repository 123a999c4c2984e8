"""Stub of onnxoptimizer for alpha-beta-CROWN in the P3 benchmark (see _missing.py): imported, never used."""
from _missing import module_getattr

__getattr__ = module_getattr("onnxoptimizer")
