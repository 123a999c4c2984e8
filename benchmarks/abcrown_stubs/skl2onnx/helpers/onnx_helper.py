"""Stub of skl2onnx.helpers.onnx_helper for alpha-beta-CROWN in the P3 benchmark (see _missing.py): imported, never used."""
from _missing import module_getattr

__getattr__ = module_getattr("skl2onnx.helpers.onnx_helper")
