"""Executing action chunks: one place for receding-horizon execution and temporal ensembling.

A chunked model predicts C future actions at once. `receding` executes the first
`execute_steps` of each chunk open-loop and then asks for a new one (amortising the model over
several control steps). `ensemble` asks for a chunk every step and averages, for the current
step, every chunk that covers it with weights exp(-decay * age) favouring older predictions
(ACT's temporal ensembling, Zhao et al. 2023), which smooths the motion.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from librobot_gym.errors import ConfigError

MODES = ("receding", "ensemble")


class ActionChunker:
    def __init__(self, chunk_size: int, mode: str = "receding", execute_steps: int | None = None,
                 decay: float = 0.01):
        if mode not in MODES:
            raise ConfigError(f"chunking mode {mode!r} is not one of {MODES}")
        if chunk_size < 1:
            raise ConfigError(f"chunk_size={chunk_size} must be at least 1")
        self.chunk_size, self.mode, self.decay = chunk_size, mode, decay
        self.execute_steps = min(execute_steps or chunk_size, chunk_size)
        self.reset()

    def reset(self) -> None:
        self._chunks: deque[tuple[int, np.ndarray]] = deque()  # (step predicted at, [B, C, A])
        self._step = 0

    def needs_prediction(self) -> bool:
        if self.mode == "ensemble" or not self._chunks:
            return True
        start, _ = self._chunks[-1]
        return self._step - start >= self.execute_steps

    def add(self, chunk: np.ndarray) -> None:
        """A chunk [B, C, A] predicted at the current step."""
        self._chunks.append((self._step, np.asarray(chunk)))
        while self._chunks and self._step - self._chunks[0][0] >= self.chunk_size:
            self._chunks.popleft()
        if self.mode == "receding":
            while len(self._chunks) > 1:
                self._chunks.popleft()

    def next_action(self) -> np.ndarray:
        """The action [B, A] for the current step; advances the step counter."""
        if not self._chunks:
            raise RuntimeError("no chunk to execute: call add() first")
        if self.mode == "receding":
            start, chunk = self._chunks[-1]
            action = chunk[:, self._step - start]
        else:
            covering = [(self._step - start, chunk) for start, chunk in self._chunks
                        if self._step - start < chunk.shape[1]]
            # Oldest first: age 0 is the oldest prediction, as ACT weights them.
            weights = np.exp(-self.decay * np.arange(len(covering)))
            weights /= weights.sum()
            action = sum(w * chunk[:, offset] for w, (offset, chunk) in zip(weights, covering,
                                                                            strict=True))
        self._step += 1
        return action
