"""VLAPolicy end to end: every framework with the `tiny` backbone and every transformers
backbone acts in a real env, checkpoints round-trip, batches work, cards are checked."""

import gymnasium as gym
import numpy as np
import pytest

from librobot_gym.cli import main
from librobot_gym.errors import PolicyMismatchError
from librobot_gym.policies import make_policy
from librobot_gym.policies.vla.config import VLAConfig
from librobot_gym.policies.vla.normalization import Normalizer
from librobot_gym.policies.vla.policy import VLAPolicy
from librobot_gym.policies.vlm.testing import TINY_FAMILIES, build_tiny_checkpoint

ENV_ID = "librobot/Franka-PickCup-v0"
SIZE = 32


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def env():
    env = gym.make(ENV_ID, camera_size=SIZE)
    yield env
    env.close()


def config(framework="octo", vlm=None, **extra) -> VLAConfig:
    return VLAConfig.from_dict({
        "framework": framework, "vlm": vlm or {"name": "tiny", "text_encoder": "learned",
                                               "embed_dim": 32},
        "action_dim": 7, "proprio_dim": 22, "chunk_size": 4, "hidden_dim": 32,
        "policy": {"control_mode": "ee_delta_pose", "cameras": ["front", "wrist"],
                   "image_size": [SIZE, SIZE], "control_hz": 20}, **extra})


@pytest.mark.parametrize("framework", ["groot", "pi0", "octo", "rt2"])
def test_every_framework_acts_in_the_env(env, framework):
    policy = VLAPolicy(config(framework))
    policy.card.check(env)
    obs, _ = env.reset(seed=0)
    policy.reset(seed=0)
    for _ in range(3):
        action = policy.act(obs)
        assert action.shape == (7,) and action.dtype == np.float32
        assert np.all(np.abs(action) <= 1.0)
        obs, *_ = env.step(action)


@pytest.mark.parametrize("family", TINY_FAMILIES)
def test_every_transformers_backbone_drives_act(env, family, tmp_path):
    folder = build_tiny_checkpoint(family, tmp_path / family)
    policy = VLAPolicy(config("octo", vlm={"name": family, "pretrained": str(folder)},
                              head={"name": "mlp"}))
    obs, _ = env.reset(seed=1)
    action = policy.act(obs)
    assert action.shape == (7,) and np.all(np.isfinite(action))
    assert policy.model.get_num_parameters(trainable_only=True) < \
        policy.model.get_num_parameters()  # the pretrained backbone stays frozen


def test_checkpoint_round_trip_gives_identical_actions(env, tmp_path):
    rng = np.random.default_rng(0)
    policy = VLAPolicy(config("pi0"), action_norm=Normalizer.from_data(rng.normal(0, 0.3, (50, 7))),
                       proprio_norm=Normalizer.from_data(rng.normal(0, 1, (50, 22)), "mean_std"))
    path = policy.save_pretrained(tmp_path / "ckpt")
    assert (path / "config.json").exists() and (path / "model.safetensors").exists()
    loaded = VLAPolicy.from_pretrained(path)
    obs, _ = env.reset(seed=2)
    policy.reset(seed=5)
    first = policy.predict_chunk(obs)
    loaded.reset(seed=5)
    np.testing.assert_allclose(loaded.predict_chunk(obs), first, atol=1e-6)
    np.testing.assert_allclose(loaded.action_norm.q99, policy.action_norm.q99)


def test_batched_observations_give_batched_actions():
    envs = gym.make_vec(ENV_ID, num_envs=2, vectorization_mode="sync", camera_size=SIZE)
    policy = VLAPolicy(config("octo"))
    obs, _ = envs.reset(seed=[3, 4])
    actions = policy.act(obs)
    assert actions.shape == (2, 7)
    envs.step(actions)
    envs.close()


def test_card_mismatches_are_listed_together(tmp_path):
    VLAPolicy(config("octo")).save_pretrained(tmp_path / "ckpt")
    wrong = gym.make(ENV_ID, obs_mode="state")
    with pytest.raises(PolicyMismatchError) as excinfo:
        make_policy(f"vla:{tmp_path / 'ckpt'}", wrong)
    message = str(excinfo.value)
    assert "obs_mode" in message and "image_size" in message and "cameras" in message
    wrong.close()


def test_yaml_configs_build(tmp_path):
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[3] / "configs" / "vla"
    for path in sorted(root.glob("*.yaml")):
        policy = VLAPolicy.from_config(path)
        assert policy.card.cameras == ("front", "wrist")


def test_rollout_cli_with_a_vla_checkpoint(tmp_path, capsys):
    VLAPolicy(config("rt2")).save_pretrained(tmp_path / "ckpt")
    code = main(["rollout", ENV_ID, "--policy", f"vla:{tmp_path / 'ckpt'}", "--episodes", "1",
                 "--obs-mode", "rgb"])
    out = capsys.readouterr().out
    assert code == 2 and "image_size" in out  # the env's default 128 px vs the policy's 32 px
    assert main(["rollout", ENV_ID, "--policy", f"vla:{tmp_path / 'ckpt'}", "--episodes", "1",
                 "--camera-size", str(SIZE)]) == 0
    assert "success rate 0.00" in capsys.readouterr().out  # untrained, but it ran


# --- the policy's own randomness and its refusal of bad input (issue 15, item 8) ---------------
def _twins(framework: str, head: dict | None, tmp_path) -> tuple[VLAPolicy, VLAPolicy]:
    """Two policies with the same weights, from one checkpoint."""
    extra = {"head": head} if head else {}
    path = VLAPolicy(config(framework, **extra)).save_pretrained(tmp_path / framework)
    return VLAPolicy.from_pretrained(path), VLAPolicy.from_pretrained(path)


@pytest.mark.parametrize("framework, head", [
    ("octo", {"name": "diffusion", "eta": 1.0, "num_inference_steps": 3}),  # noise every step
    ("pi0", None),  # the framework's own flow sampler
    ("groot", {"name": "flow", "num_steps": 3}),
])
def test_seeded_policies_act_alike_however_they_interleave(env, framework, head, tmp_path):
    import torch

    obs, _ = env.reset(seed=4)
    first, second = _twins(framework, head, tmp_path)

    first.reset(seed=7)
    alone = [first.act(obs) for _ in range(8)]  # two chunks of four
    assert not all(np.array_equal(alone[0], a) for a in alone[4:]), "sampling should vary"

    first.reset(seed=7)
    second.reset(seed=7)
    together_first, together_second = [], []
    for _ in range(8):
        together_second.append(second.act(obs))
        torch.manual_seed(123)  # somebody else's use of the global RNG
        torch.randn(5)
        together_first.append(first.act(obs))
        if len(together_second) == 4:
            second.reset(seed=99)  # only `second` reseeds
    np.testing.assert_array_equal(np.array(together_first), np.array(alone))
    np.testing.assert_array_equal(np.array(together_second[:4]), np.array(alone[:4]))


def test_reset_leaves_the_global_rng_alone():
    import torch

    policy = VLAPolicy(config("pi0"))
    torch.manual_seed(0)
    expected = torch.randn(3)
    torch.manual_seed(0)
    policy.reset(seed=5)
    np.testing.assert_array_equal(torch.randn(3), expected)


def test_a_nan_state_is_refused_naming_the_field(env, tmp_path):
    from librobot_gym.errors import InvalidObservationError

    VLAPolicy(config("octo")).save_pretrained(tmp_path / "ckpt")
    policy = make_policy(f"vla:{tmp_path / 'ckpt'}", env)
    obs, _ = env.reset(seed=0)
    bad = dict(obs, state=obs["state"].copy())
    bad["state"][9] = np.nan  # joint_vel[2]: joint_pos is 0-6, joint_vel 7-13
    with pytest.raises(InvalidObservationError, match="'joint_vel' \\(index 9\\)"):
        policy.act(bad)
    bad["state"][9] = np.inf
    with pytest.raises(ValueError, match="joint_vel"):  # a ValueError too
        policy.act(bad)
    bare = VLAPolicy(config("octo"))  # built without an env: an index names it
    with pytest.raises(InvalidObservationError, match=r"state\[9\]"):
        bare.act(bad)
    assert policy.act(obs).shape == (7,)


def test_a_framework_without_a_generator_argument_is_isolated_too(env):
    import torch

    class GlobalNoise(torch.nn.Module):  # the interface's minimal predict_action
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.tensor(0.3))

        def predict_action(self, images, text, proprio):
            return self.scale * torch.randn(images.shape[0], 4, 7)

    obs, _ = env.reset(seed=0)
    first, second = (VLAPolicy(config("octo"), model=GlobalNoise()) for _ in range(2))
    first.reset(seed=1)
    alone = [first.act(obs) for _ in range(8)]
    first.reset(seed=1)
    second.reset(seed=1)
    torch.manual_seed(0)
    expected = torch.randn(2)
    torch.manual_seed(0)
    for i in range(8):
        np.testing.assert_array_equal(first.act(obs), alone[i])
        second.act(obs)
    np.testing.assert_array_equal(torch.randn(2), expected)  # the global RNG was not drawn
