"""Placeholders for packages alpha-beta-CROWN imports at module top but the P3 benchmark never uses.

verify_vs_peers.py puts this folder first on alpha-beta-CROWN's PYTHONPATH. The benchmark builds the network as a
torch module (no ONNX) and gives the specification as a vnnlib file (no data set), so torchvision (CUDA-built wheels,
only for data sets), pandas, onnx, onnxruntime, onnxoptimizer, onnx2pytorch and skl2onnx are imported but never
called. Each stub resolves every attribute to a placeholder that raises when it is used, so a code path that does
need the real package fails loudly instead of silently doing nothing.
"""


class StubUsed(RuntimeError):
    pass


class Missing:
    def __init__(self, name: str):
        self._name = name

    def __call__(self, *args, **kwargs):
        raise StubUsed(f"{self._name} is a stub in benchmarks/abcrown_stubs (not installed for the P3 benchmark)")

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return Missing(f"{self._name}.{attr}")

    def __mro_entries__(self, bases):  # `class X(stub.Base)` at import time
        return (object,)


def module_getattr(module: str):
    def __getattr__(attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return Missing(f"{module}.{attr}")
    return __getattr__
