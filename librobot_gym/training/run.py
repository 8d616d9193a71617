"""`librobot train --config`: build the dataset windows and the trainer from a TrainConfig."""

from __future__ import annotations

from librobot_gym.training.bc import Callback, TrainConfig, Trainer
from librobot_gym.training.data.concat import open_recorded
from librobot_gym.training.data.randomize import successful_episodes
from librobot_gym.training.data.transforms import Compose
from librobot_gym.training.data.windows import ActionChunkDataset


def build_trainer(config: TrainConfig, callbacks: list[Callback] | None = None) -> Trainer:
    vla = config.vla_config()
    transform = Compose(config.transforms) if config.transforms else None
    folders = config.dataset_folders()
    episodes = ([successful_episodes(f) for f in folders] if config.successful_only
                else None)
    # Held on the device, the images are decoded once up front: no reader cache to fill.
    source = open_recorded(folders, cache_mb=0 if config.data_on_device else "auto",
                           episodes=episodes)
    dataset = ActionChunkDataset(source, chunk_size=vla.chunk_size,
                                 cameras=vla.policy.get("cameras"), transform=transform)
    return Trainer(config, dataset, callbacks)


def train_from_config(config: TrainConfig, callbacks: list[Callback] | None = None) -> dict:
    return build_trainer(config, callbacks).train()


if __name__ == "__main__":  # torchrun --nproc-per-node N -m librobot_gym.training.run CONFIG
    import sys

    train_from_config(TrainConfig.from_yaml(sys.argv[1]))
