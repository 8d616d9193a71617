"""Normalisation statistics for actions and proprioception, stored with every checkpoint.

Models learn in normalised units; the policy maps back to the env's [-1, 1] actions. Two
conventions, both per dimension: `mean_std` ((x - mean) / std) and `quantile` (q01 -> -1,
q99 -> +1, as pi0/OpenVLA do, robust to outliers). Constant dimensions pass through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from librobot_gym.errors import ConfigError

MODES = ("mean_std", "quantile", "identity")
_EPS = 1e-6


@dataclass
class Normalizer:
    mean: np.ndarray
    std: np.ndarray
    q01: np.ndarray
    q99: np.ndarray
    mode: str = "quantile"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"normalisation mode {self.mode!r} is not one of {MODES}")
        for name in ("mean", "std", "q01", "q99"):
            setattr(self, name, np.asarray(getattr(self, name), dtype=np.float32))

    @classmethod
    def from_data(cls, data: np.ndarray, mode: str = "quantile") -> Normalizer:
        """Statistics of `data` [N, D] (any leading shape; the last axis is the dimension)."""
        flat = np.asarray(data, dtype=np.float64).reshape(-1, np.shape(data)[-1])
        return cls(flat.mean(0), flat.std(0), np.quantile(flat, 0.01, axis=0),
                   np.quantile(flat, 0.99, axis=0), mode)

    @classmethod
    def identity(cls, dim: int) -> Normalizer:
        zeros, ones = np.zeros(dim), np.ones(dim)
        return cls(zeros, ones, -ones, ones, "identity")

    @property
    def dim(self) -> int:
        return int(self.mean.shape[0])

    def _scale_offset(self) -> tuple[np.ndarray, np.ndarray]:
        if self.mode == "mean_std":
            scale = np.where(self.std > _EPS, self.std, 1.0)
            return scale, self.mean
        if self.mode == "quantile":
            half = (self.q99 - self.q01) / 2
            scale = np.where(half > _EPS, half, 1.0)
            return scale, (self.q99 + self.q01) / 2
        return np.ones_like(self.mean), np.zeros_like(self.mean)

    def normalize(self, x):
        scale, offset = self._scale_offset()
        return (x - _like(offset, x)) / _like(scale, x)

    def unnormalize(self, x):
        scale, offset = self._scale_offset()
        return x * _like(scale, x) + _like(offset, x)

    def to_dict(self) -> dict:
        return {"mode": self.mode, "mean": self.mean.tolist(), "std": self.std.tolist(),
                "q01": self.q01.tolist(), "q99": self.q99.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> Normalizer:
        return cls(data["mean"], data["std"], data["q01"], data["q99"], data["mode"])


def _like(array: np.ndarray, reference):
    if isinstance(reference, torch.Tensor):
        return torch.as_tensor(array, dtype=reference.dtype, device=reference.device)
    return array
