"""Image augmentations for small frames: colour jitter keeps shapes and range, changes each
image by its own factors and leaves hue alone unless asked; random resized crop zooms within its
bounds; both are reachable by name in a training config, and a successful-only training set
drops failed demonstrations."""

from __future__ import annotations

import pytest
import torch

from librobot_gym.errors import ConfigError
from librobot_gym.training.data.base import DatasetError
from librobot_gym.training.data.registry import create_transform


def scene(n: int = 4, size: int = 16) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return torch.rand(n, 2, 3, size, size, generator=g) * 0.6 + 0.2


def test_color_jitter_stays_in_range_and_draws_per_image():
    images = scene()
    jitter = create_transform("color_jitter", brightness=0.4, contrast=0.4, saturation=0.4,
                              generator=torch.Generator().manual_seed(0))
    out = jitter({"images": images, "actions": torch.ones(3)})["images"]
    assert out.shape == images.shape and out.min() >= 0 and out.max() <= 1
    ratios = (out.mean(dim=(2, 3, 4)) / images.mean(dim=(2, 3, 4))).flatten()
    assert len(set(ratios.round(decimals=3).tolist())) == len(ratios)  # each its own draw
    same = create_transform("colour_jitter", brightness=0, contrast=0, saturation=0)
    assert torch.allclose(same({"images": images})["images"], images, atol=1e-6)


def test_hue_turn_keeps_luma_and_a_grey_image():
    grey = torch.full((1, 3, 4, 4), 0.5)
    turn = create_transform("color_jitter", brightness=0, contrast=0, saturation=0, hue=0.5)
    assert torch.allclose(turn({"images": grey})["images"], grey, atol=1e-5)
    red = torch.zeros(1, 3, 4, 4)
    red[:, 0] = 0.8
    turned = turn({"images": red})["images"]
    luma = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    assert not torch.allclose(turned, red, atol=1e-2)
    assert torch.allclose((turned.clamp(0, 1) * luma).sum(1), (red * luma).sum(1), atol=0.15)


def test_random_resized_crop_zooms_within_its_bounds():
    image = torch.zeros(1, 3, 32, 32)
    image[..., 12:20, 12:20] = 1.0  # an 8 x 8 square: its area grows as 1 / scale
    crop = create_transform("random_resized_crop", scale=(0.5, 0.5), ratio=(1.0, 1.0),
                            generator=torch.Generator().manual_seed(0))
    areas = []
    for _ in range(10):
        out = crop({"images": image})["images"]
        assert out.shape == image.shape
        areas.append(float((out[0, 0] > 0.5).sum()))
    assert all(100 <= a <= 160 for a in areas)  # 64 / 0.5 = 128 pixels, give or take edges
    identity = create_transform("crop_resize", scale=(1.0, 1.0), ratio=(1.0, 1.0))
    assert torch.allclose(identity({"images": image})["images"], image)
    with pytest.raises(ConfigError, match="must lie in"):
        create_transform("random_resized_crop", scale=(0.0, 1.5))


def test_successful_only_keeps_the_successful_episodes(tmp_path):
    from librobot_gym.training.data import collect
    from librobot_gym.training.data.lerobot import LeRobotDataset
    from librobot_gym.training.data.randomize import successful_episodes

    collect("librobot/Franka-PickCup-v0", "random", 2, tmp_path / "d", camera_size=16)
    table = LeRobotDataset(tmp_path / "d").episodes
    assert not table["success"].any()  # the random policy never lifts the cup
    with pytest.raises(DatasetError, match="none of its 2 episodes succeeded"):
        successful_episodes(tmp_path / "d")
