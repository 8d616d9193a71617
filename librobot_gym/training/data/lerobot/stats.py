"""Feature statistics for a LeRobot dataset's meta/stats.json: exact per-channel image
statistics of an episode (from histograms, cheap per frame), and per-episode statistics combined
as lerobot combines them. (Vector features use `base.vector_stats`, exact over all frames.)"""

from __future__ import annotations

from typing import Any

import numpy as np


class ImageStats:
    """Per-channel statistics of one camera over one episode, exact, from 256-bin histograms of
    every pixel (cheap per frame); reported in [0, 1] with lerobot's [3, 1, 1] shape."""

    _OFFSETS = np.array([0, 256, 512], dtype=np.intp)

    def __init__(self) -> None:
        self.frames = 0
        self.histogram = np.zeros(3 * 256, dtype=np.int64)

    def add(self, image: np.ndarray) -> None:
        codes = image.reshape(-1, 3).astype(np.intp) + self._OFFSETS
        self.histogram += np.bincount(codes.ravel(), minlength=3 * 256)
        self.frames += 1

    def result(self) -> dict[str, list]:
        values = np.arange(256, dtype=np.float64)
        stats: dict[str, list] = {k: [] for k in ("min", "max", "mean", "std", "q01", "q99")}
        for counts in self.histogram.reshape(3, 256):
            n = counts.sum()
            mean = (counts * values).sum() / n
            present = np.flatnonzero(counts)
            channel = {"min": present[0], "max": present[-1], "mean": mean,
                       "std": np.sqrt(max((counts * values**2).sum() / n - mean**2, 0.0)),
                       "q01": histogram_quantile(counts, 0.01),
                       "q99": histogram_quantile(counts, 0.99)}
            for key, value in channel.items():
                stats[key].append([[float(value) / 255.0]])
        return {**stats, "count": [self.frames]}


def histogram_quantile(counts: np.ndarray, q: float) -> float:
    """np.quantile (linear interpolation) of the values a histogram of integers counts."""
    cumulative = np.cumsum(counts)
    position = q * (cumulative[-1] - 1)
    below = int(np.floor(position))
    low = np.searchsorted(cumulative, below, side="right")
    high = np.searchsorted(cumulative, min(below + 1, cumulative[-1] - 1), side="right")
    return float(low + (position - below) * (high - low))


def aggregate_stats(parts: list[dict[str, Any]]) -> dict[str, list]:
    """Combine per-episode statistics: exact min/max/mean/std (parallel variance), count-weighted
    mean of the quantiles (an approximation, as lerobot aggregates them)."""
    counts = np.array([p["count"][0] for p in parts], dtype=np.float64)
    weights = counts / counts.sum()

    def stacked(key: str) -> np.ndarray:
        return np.stack([np.asarray(p[key], dtype=np.float64) for p in parts])

    means = stacked("mean")
    shape = (-1,) + (1,) * (means.ndim - 1)
    w = weights.reshape(shape)
    mean = (w * means).sum(0)
    var = (w * (stacked("std") ** 2 + (means - mean) ** 2)).sum(0)
    return {"min": stacked("min").min(0).tolist(), "max": stacked("max").max(0).tolist(),
            "mean": mean.tolist(), "std": np.sqrt(var).tolist(),
            "q01": (w * stacked("q01")).sum(0).tolist(),
            "q99": (w * stacked("q99")).sum(0).tolist(), "count": [int(counts.sum())]}
