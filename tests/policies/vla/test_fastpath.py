"""The inference fast paths compute what the plain paths compute (to float tolerance), for every
framework and head; their caches follow the weights; training never takes them; --device."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from librobot_gym.errors import ConfigError
from librobot_gym.policies.vla.config import VLAConfig
from librobot_gym.policies.vla.device import DEVICE_ENV, resolve_device
from librobot_gym.policies.vla.fastpath import WeightCache, fast_path, plain_paths
from librobot_gym.policies.vla.policy import VLAPolicy

# (framework, head): every framework's own action model, and each head behind a framework.
MODELS = [("rt2", None), ("octo", None), ("pi0", None), ("groot", None),
          ("octo", "mlp"), ("octo", "transformer"),
          ("octo", {"name": "flow", "sampler": "midpoint"}),
          ("octo", {"name": "diffusion", "eta": 0.5, "prediction_type": "sample"}),
          ("pi0", "flow"), ("groot", "diffusion")]


def config(framework: str, head=None) -> VLAConfig:
    return VLAConfig.from_dict({
        "framework": framework, "vlm": {"name": "tiny", "text_encoder": "learned",
                                        "channels": [8, 16]},
        "head": head, "action_dim": 7, "proprio_dim": 5, "chunk_size": 4, "hidden_dim": 32,
        "chunking": {"mode": "ensemble"},
        "policy": {"cameras": ["front", "wrist"], "image_size": [32, 32]}})


def observation(batch: int | None = None, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    lead = () if batch is None else (batch,)
    texts = ["pick up the red cup", "open the drawer", "push the blue block to the target"]
    return {"images": {c: rng.integers(0, 256, (*lead, 32, 32, 3), dtype=np.uint8)
                       for c in ("front", "wrist")},
            "state": rng.standard_normal((*lead, 5)).astype(np.float32),
            "instruction": texts[0] if batch is None else [texts[i % 3] for i in range(batch)]}


def perturbed(policy: VLAPolicy) -> VLAPolicy:
    """Nudge every weight (adaLN-Zero and other zero inits would hide differences)."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in policy.model.parameters():
            parameter.add_(0.05 * torch.randn(parameter.shape, generator=generator))
    return policy


def raw_output(policy: VLAPolicy, obs: dict, seed: int = 3) -> torch.Tensor:
    """The model's chunk (rt2: its logits) before clipping, for one seeded noise draw."""
    images, text, proprio = policy._inputs(obs, None if isinstance(obs["instruction"], str)
                                           else len(obs["instruction"]))
    model = policy.model
    with torch.inference_mode():
        if hasattr(model, "logits"):
            return model.logits(images, text, proprio)
        generator = torch.Generator().manual_seed(seed)
        return model.predict_action(images, text, proprio, generator=generator)


@pytest.mark.parametrize(("framework", "head"), MODELS,
                         ids=[f"{f}-{h if isinstance(h, str) or h is None else h['name']}"
                              for f, h in MODELS])
@pytest.mark.parametrize("batch", [None, 3])
def test_fast_path_computes_what_the_plain_path_computes(framework, head, batch):
    torch.manual_seed(0)
    policy = perturbed(VLAPolicy(config(framework, head)))
    obs = observation(batch)
    fast = raw_output(policy, obs)
    with plain_paths():
        plain = raw_output(policy, obs)
    assert fast.shape == plain.shape
    torch.testing.assert_close(fast, plain, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("framework", ["rt2", "octo", "pi0", "groot"])
def test_fast_act_matches_plain_act_step_by_step(framework):
    torch.manual_seed(1)
    fast = perturbed(VLAPolicy(config(framework)))
    plain = VLAPolicy(fast.config, model=fast.model, fast=False)
    for policy in (fast, plain):
        policy.reset(seed=7)
    for step in range(3):
        obs = observation(seed=step)
        np.testing.assert_allclose(fast.act(obs), plain.act(obs), atol=1e-4)


@pytest.mark.parametrize(("framework", "head", "part"), [
    ("octo", "mlp", "vlm.text_encoder"),  # the cached instruction tokens
    ("octo", "diffusion", "head.denoiser.time"),  # the schedule's time embeddings
    ("pi0", None, "time"), ("groot", None, "time")])  # every step's time conditioning
def test_caches_follow_the_weights(framework, head, part):
    torch.manual_seed(2)
    policy = perturbed(VLAPolicy(config(framework, head)))
    obs = observation()
    before = raw_output(policy, obs)
    module = policy.model.get_submodule(part)
    with torch.no_grad():  # an optimiser step changes the weights in place
        for parameter in module.parameters():
            parameter.mul_(1.5)
    after = raw_output(policy, obs)
    with plain_paths():
        expected = raw_output(policy, obs)
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, expected, atol=1e-4, rtol=1e-4)


def test_weight_cache_recomputes_when_a_weight_changes_in_place():
    weight = torch.ones(3)
    cache, calls = WeightCache(), []

    def compute():
        calls.append(1)
        return weight * 2

    assert torch.equal(cache.get("k", [weight], compute), torch.full((3,), 2.0))
    cache.get("k", [weight], compute)
    assert len(calls) == 1
    weight.add_(1)
    assert torch.equal(cache.get("k", [weight], compute), torch.full((3,), 4.0))
    assert len(calls) == 2


def test_training_takes_the_plain_path():
    assert fast_path() is False  # gradients are on by default
    with torch.no_grad():
        assert fast_path() is True
        with plain_paths():
            assert fast_path() is False
    policy = VLAPolicy(config("pi0"))
    policy.model.train()
    obs = observation(2)
    images, text, proprio = policy._inputs(obs, 2)
    loss = policy.model(images, text, proprio, torch.zeros(2, 4, 7))["loss"]
    loss.backward()  # a graph was built: the plain path ran
    assert policy.model.action_in.weight.grad is not None


def test_device_choice_and_a_clear_error_for_a_missing_one(monkeypatch):
    assert resolve_device(None) == torch.device("cpu")
    monkeypatch.setenv(DEVICE_ENV, "cpu")
    assert VLAPolicy(config("rt2")).device == torch.device("cpu")
    with pytest.raises(ConfigError, match="not one of cpu, cuda"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="'cuda' is not available on this machine"):
            VLAPolicy(config("rt2"), device="cuda")
        monkeypatch.setenv(DEVICE_ENV, "cuda:1")
        with pytest.raises(ConfigError, match="--device cpu"):
            VLAPolicy(config("rt2"))
