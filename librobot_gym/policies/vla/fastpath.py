"""Inference fast paths of the VLA stack: one switch, and a cache of weight-derived tensors.

`act()` at batch 1 is dominated by per-call overhead, not arithmetic: ~30 small modules per
denoising step, the instruction re-projected every call, prefix keys/values recomputed by every
sampling step. The frameworks, heads and backbones therefore carry a second, faster inference
path that computes the same function (equal to float tolerance; `tests/policies/vla/
test_fastpath.py` checks each against the plain path). It runs only when

* fast paths are enabled (the default; `plain_paths()` or `VLAPolicy(fast=False)` turn them
  off, which is what `benchmarks/perf/policy_latency.py --baseline` measures), and
* no gradient is being recorded (training always takes the plain path).

`WeightCache` keeps tensors computed from weights alone (the time embeddings of a fixed sampling
schedule, an instruction's projected tokens): each entry is keyed by the parameters' in-place
version counters, so an optimiser step or `load_state_dict` invalidates it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextvars import ContextVar

import torch

_ENABLED: ContextVar[bool] = ContextVar("librobot_fast_paths", default=True)


def fast_path() -> bool:
    """True when the fast inference path may run: enabled and no autograd graph is wanted."""
    return _ENABLED.get() and not torch.is_grad_enabled()


@contextlib.contextmanager
def fast_paths(enabled: bool = True) -> Iterator[None]:
    """Enable (or, with False, disable) the fast paths inside the block, in this context."""
    token = _ENABLED.set(enabled)
    try:
        yield
    finally:
        _ENABLED.reset(token)


def plain_paths() -> contextlib.AbstractContextManager[None]:
    """The plain (reference) inference path inside the block."""
    return fast_paths(False)


@contextlib.contextmanager
def small_tensor_ops() -> Iterator[None]:
    """Run small-tensor ops without oneDNN: its GELU costs ~10 us a call at batch 1 against ~2
    us for ATen's own kernel (same erf formula). Convolutions must stay outside the block.
    The switch is process-wide: a convolution another thread runs meanwhile takes ATen's
    slower kernel (same result), which is why only the small-tensor parts are wrapped."""
    if not torch.backends.mkldnn.enabled:
        yield
        return
    torch.backends.mkldnn.enabled = False
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = True


def _versions(parameters: Iterable[torch.Tensor]) -> tuple:
    return tuple((p._version, p.data_ptr(), p.device, p.dtype) for p in parameters)


class WeightCache:
    """Tensors derived from a module's weights (and a hashable key), recomputed when a weight
    changes in place, moves or is replaced. Bounded: cleared when `size` entries are held."""

    def __init__(self, size: int = 256):
        self.size = size
        self._entries: dict[Hashable, tuple[tuple, object]] = {}

    def get(self, key: Hashable, parameters: Iterable[torch.Tensor],
            compute: Callable[[], object]) -> object:
        versions = _versions(parameters)
        hit = self._entries.get(key)
        if hit is not None and hit[0] == versions:
            return hit[1]
        value = compute()
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[key] = (versions, value)
        return value

    def clear(self) -> None:
        self._entries.clear()
