"""`librobot train --config`: build the dataset windows and the trainer from a TrainConfig."""

from __future__ import annotations

from librobot_gym.training.bc import Callback, TrainConfig, Trainer
from librobot_gym.training.data.randomize import successful_episodes
from librobot_gym.training.data.transforms import Compose
from librobot_gym.training.data.windows import ActionChunkDataset


def build_trainer(config: TrainConfig, callbacks: list[Callback] | None = None) -> Trainer:
    vla = config.vla_config()
    transform = Compose(config.transforms) if config.transforms else None
    episodes = successful_episodes(config.dataset) if config.successful_only else None
    dataset = ActionChunkDataset(config.dataset, chunk_size=vla.chunk_size,
                                 cameras=vla.policy.get("cameras"), transform=transform,
                                 episodes=episodes)
    return Trainer(config, dataset, callbacks)


def train_from_config(config: TrainConfig, callbacks: list[Callback] | None = None) -> dict:
    return build_trainer(config, callbacks).train()


if __name__ == "__main__":  # torchrun --nproc-per-node N -m librobot_gym.training.run CONFIG
    import sys

    train_from_config(TrainConfig.from_yaml(sys.argv[1]))
