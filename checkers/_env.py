"""What reports record about the software and the device they ran on."""

from __future__ import annotations

import importlib.metadata as md


def package_version(name: str) -> str:
    """The installed version of a distribution, or ``"unknown"``."""
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return "unknown"


def jax_device() -> tuple[str, str, int]:
    """``(platform, kind, count)`` of the devices JAX sees (imports JAX)."""
    import jax

    dev = jax.devices()[0]
    return dev.platform, getattr(dev, "device_kind", str(dev)), len(jax.devices())
