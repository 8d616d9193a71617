"""Dynamic batching for the policy server: requests from many clients (N rollout workers) wait
up to `max_wait_s` for company, up to `max_batch` observations, and the model predicts them in
one forward pass: one model on one accelerator serves many workers (Triton's and TorchServe's
dynamic batching, on openpi's protocol).

Only observations of one shape batch together (the same keys, image sizes and state length:
one card's task); a request of another shape waits for the next batch. A request may carry a
batch itself (a vector env); it is never split across two forward passes. An error in the
forward pass reaches every request of that batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import numpy as np

from librobot_gym.policies.base import batch_size


def _leaves(obs: Any, path: tuple = ()):
    if isinstance(obs, dict):
        for key in sorted(obs):
            yield from _leaves(obs[key], (*path, key))
    else:
        yield path, obs


def _as_batch(obs: Any) -> tuple[Any, int, bool]:
    """(the observation with a leading batch axis, its size, whether it came as a batch)."""
    size = batch_size(obs)
    if size is not None:
        return obs, size, True

    def lift(value):
        if isinstance(value, dict):
            return {k: lift(v) for k, v in value.items()}
        if isinstance(value, str):
            return [value]
        return np.asarray(value)[None]
    return lift(obs), 1, False


def signature(batch: Any) -> tuple:
    """What must agree for two batched observations to stack: keys and per-row shapes."""
    return tuple((path, "text" if isinstance(v, list) else (np.asarray(v).shape[1:],
                                                           np.asarray(v).dtype.str))
                 for path, v in _leaves(batch))


def stack(batches: list[Any]) -> Any:
    first = batches[0]
    if isinstance(first, dict):
        return {k: stack([b[k] for b in batches]) for k in first}
    if isinstance(first, list):
        return [text for b in batches for text in b]
    return np.concatenate([np.asarray(b) for b in batches])


class DynamicBatcher:
    """`await submit(obs)` -> that request's actions ([H, D], or [b, H, D] for a batch), from
    `predict(batched_obs) -> [B, H, D]` run on `executor` for every request gathered within
    `max_wait_s` (at most `max_batch` observations)."""

    def __init__(self, predict: Callable[[Any], np.ndarray], executor: Executor,
                 max_batch: int, max_wait_s: float):
        self.predict, self.executor = predict, executor
        self.max_batch, self.max_wait_s = max_batch, max_wait_s
        self._queue: asyncio.Queue | None = None
        self._runner: asyncio.Task | None = None
        self.batches: list[int] = []  # observations per forward pass, for the record

    async def submit(self, obs: Any) -> np.ndarray:
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._runner = asyncio.get_running_loop().create_task(self._run())
        batch, size, batched = _as_batch(obs)
        future = asyncio.get_running_loop().create_future()
        await self._queue.put((batch, size, batched, signature(batch), future))
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        carried = None
        while True:
            first = carried or await self._queue.get()
            carried = None
            items, total = [first], first[1]
            deadline = loop.time() + self.max_wait_s
            while total < self.max_batch:
                timeout = deadline - loop.time()
                if timeout <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self._queue.get(), timeout)
                except TimeoutError:
                    break
                if item[3] != first[3] or total + item[1] > self.max_batch:
                    carried = item  # another shape, or no room: it opens the next batch
                    break
                items.append(item)
                total += item[1]
            await self._answer(loop, items, total)

    async def _answer(self, loop, items: list, total: int) -> None:
        try:
            chunks = await loop.run_in_executor(
                self.executor, self.predict, stack([item[0] for item in items]))
        except Exception as exc:  # every request of the batch learns why
            for item in items:
                if not item[4].done():
                    item[4].set_exception(exc)
            return
        self.batches.append(total)
        offset = 0
        for _, size, batched, _, future in items:
            rows = chunks[offset:offset + size]
            offset += size
            if not future.done():
                future.set_result(rows if batched else rows[0])

    def close(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
