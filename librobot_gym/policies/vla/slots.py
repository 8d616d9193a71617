"""`VLASlots`: one VLA model serving K episodes at once (batched evaluation).

Each slot has its own chunk executor and its own noise generator, seeded by its episode's seed
as `VLAPolicy.reset(seed)` seeds the policy's; at each step the slots whose chunk is spent are
predicted together in one forward pass, each row's noise drawn from its slot's generator
(`heads.common.draw_noise`). So an episode gets the chunks it would get alone, up to the float
rounding of a batched matrix product.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from librobot_gym.policies.vla.chunking import ActionChunker


class VLASlots:
    def __init__(self, policy, count: int):
        self.policy = policy
        self.card = policy.card
        self.chunkers = [ActionChunker(policy.config.chunk_size, **dict(policy.config.chunking))
                         for _ in range(count)]
        self.generators = [torch.Generator(device=policy.device) for _ in range(count)]
        for generator in self.generators:
            generator.seed()

    def reset(self, slot: int, seed: int | None = None) -> None:
        self.chunkers[slot].reset()
        if seed is not None:
            self.generators[slot].manual_seed(seed)

    def act(self, slots: Sequence[int], obs: Sequence[Any]) -> list[np.ndarray]:
        need = [i for i, slot in enumerate(slots) if self.chunkers[slot].needs_prediction()]
        if need:
            batch = {"images": {camera: np.stack([obs[i]["images"][camera] for i in need])
                                for camera in obs[need[0]]["images"]},
                     "state": np.stack([obs[i]["state"] for i in need]),
                     "instruction": [obs[i]["instruction"] for i in need]}
            chunks = self.policy.predict_chunk(
                batch, generator=[self.generators[slots[i]] for i in need])
            for row, i in enumerate(need):
                self.chunkers[slots[i]].add(chunks[row:row + 1])
        return [self.chunkers[slot].next_action()[0].astype(np.float32) for slot in slots]
