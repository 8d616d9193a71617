"""Which torch device a VLA runs on: `cpu`, `cuda`, `cuda:N` or `mps`.

Chosen per policy (`VLAPolicy(device=...)`, `from_pretrained(path, device=...)`), else from the
`LIBROBOT_DEVICE` environment variable, which the CLI's `--device` sets so that every worker
process it starts (local workers, a local Ray cluster, the server) builds its VLA there, else
the CPU. Asking for a device this machine lacks is a ConfigError that names the ones it has.
"""

from __future__ import annotations

import os

import torch

from librobot_gym.errors import ConfigError

DEVICE_ENV = "LIBROBOT_DEVICE"
DEVICE_CHOICES = ("cpu", "cuda", "mps")


def available_devices() -> list[str]:
    """The devices torch can use here, e.g. ["cpu"] or ["cpu", "cuda", "cuda:0", "cuda:1"]."""
    found = ["cpu"]
    if torch.cuda.is_available():
        found += ["cuda", *(f"cuda:{i}" for i in range(torch.cuda.device_count()))]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return found


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """`device`, else $LIBROBOT_DEVICE, else cpu, checked to exist on this machine."""
    name = str(device) if device is not None else os.environ.get(DEVICE_ENV) or "cpu"
    name = name.strip().lower()
    kind = name.partition(":")[0]
    if kind not in DEVICE_CHOICES:
        raise ConfigError(f"device {name!r} is not one of cpu, cuda, cuda:N, mps")
    if name not in available_devices():
        raise ConfigError(f"device {name!r} is not available on this machine (torch "
                          f"{torch.__version__} sees {available_devices()}); use --device cpu "
                          f"or install a torch build for that accelerator")
    return torch.device(name)
