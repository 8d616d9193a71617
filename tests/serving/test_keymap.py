"""An openpi checkpoint's own keys: a stand-in LIBERO-style server that insists on openpi's
observation keys and image size and answers actions in its own order, reached through
`remote:ws://...?keymap=PATH`."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from librobot_gym.errors import ConfigError
from librobot_gym.policies import PolicyCard, make_policy
from librobot_gym.serving import PolicyServer
from librobot_gym.serving.client import RemoteServerError
from librobot_gym.serving.keymap import KeyMap

KEYMAP = "configs/keymaps/openpi-libero.yaml"
LIBERO_KEYS = {"observation/image", "observation/wrist_image", "observation/state", "prompt"}
HORIZON = 5


class LiberoStandIn:
    """What an openpi LIBERO server checks: exactly its keys, 224x224x3 uint8 images, an 8-d
    state, a prompt string; it answers a chunk whose dimension i holds 0.1 * (i + 1)."""

    card = PolicyCard("openpi-libero-standin")

    def __init__(self):
        self.seen: list[dict] = []

    def reset(self, seed=None):
        pass

    def predict_chunk(self, obs):
        if set(obs) != LIBERO_KEYS:
            raise KeyError(f"expected LIBERO keys {sorted(LIBERO_KEYS)}, got {sorted(obs)}")
        for key in ("observation/image", "observation/wrist_image"):
            image = np.asarray(obs[key])
            assert image.shape == (224, 224, 3) and image.dtype == np.uint8, image.shape
        assert np.asarray(obs["observation/state"]).shape == (8,)
        assert isinstance(obs["prompt"], str) and obs["prompt"]
        self.seen.append(obs)
        step = 0.1 * np.arange(1, 8, dtype=np.float32)
        return np.tile(step, (1, HORIZON, 1))


@pytest.fixture(scope="module")
def libero_server():
    standin = LiberoStandIn()
    with PolicyServer(standin) as server:
        yield server, standin


def test_a_rollout_reaches_an_openpi_server_through_the_key_map(libero_server, tmp_path):
    server, standin = libero_server
    keymap = yaml.safe_load(open(KEYMAP))
    keymap["action"]["indices"] = [6, 5, 4, 3, 2, 1, 0]  # the server's order reversed
    keymap["action"]["scale"] = [1, 1, 1, 1, 1, 1, -1]
    path = tmp_path / "keymap.yaml"
    path.write_text(yaml.safe_dump(keymap))
    env = gym.make("librobot/Franka-PickCup-v1", camera_size=32)
    try:
        policy = make_policy(f"remote:{server.url}?keymap={path}", env, seed=0)
        obs, _ = env.reset(seed=0)
        action = policy.act(obs)
        np.testing.assert_allclose(action, [0.7, 0.6, 0.5, 0.4, 0.3, 0.2, -0.1], atol=1e-6)
        for _ in range(HORIZON + 1):  # a second chunk is asked for after five steps
            obs, *_ = env.step(policy.act(obs))
        assert len(standin.seen) == 2
        assert standin.seen[0]["prompt"] == env.unwrapped.instruction
        policy.close()
    finally:
        env.close()


def test_without_the_key_map_the_server_refuses_our_keys(libero_server):
    server, _ = libero_server
    env = gym.make("librobot/Franka-PickCup-v1", camera_size=32)
    try:
        policy = make_policy(f"remote:{server.url}", env, seed=0)
        obs, _ = env.reset(seed=0)
        with pytest.raises(RemoteServerError, match="expected LIBERO keys"):
            policy.act(obs)
        policy.close()
    finally:
        env.close()


@pytest.mark.parametrize("data, needle", [
    ({}, "needs an `observation:` mapping"),
    ({"observation": {"prompt": "instruction"}, "extra": 1}, "unknown sections"),
    ({"observation": {"img": {"resize": [2, 2]}}}, "needs `from: PATH`"),
    ({"observation": {"img": {"from": "images.front", "size": 3}}}, "unknown options"),
    ({"observation": {"img": {"from": "images.front", "resize": [224]}}}, "[height, width]"),
    ({"observation": {"s": "state"}, "action": {"indices": [0, 1], "scale": [1]}},
     "has 1 entries for 2 indices"),
    ({"observation": {"s": "state"}, "action": {"scale": ["x"]}}, "finite numbers"),
])
def test_a_bad_key_map_names_the_problem(data, needle):
    with pytest.raises(ConfigError) as excinfo:
        KeyMap.from_dict(data, "map.yaml")
    assert needle in str(excinfo.value) and "\n" not in str(excinfo.value)


def test_a_missing_source_or_reply_key_names_the_fix():
    keymap = KeyMap.from_dict({"observation": {"img": "images.top"}, "action": {"key": "act"}})
    with pytest.raises(ConfigError, match="images.top.*fix `from`"):
        keymap.to_server({"images": {"front": np.zeros((2, 2, 3), np.uint8)}, "state": [0.0]})
    with pytest.raises(ConfigError, match="not 'act'; fix action.key"):
        keymap.from_server({"actions": np.zeros((1, 7))})


@settings(max_examples=50, deadline=None)
@given(st.permutations(list(range(7))),
       st.lists(st.floats(-2, 2, allow_nan=False), min_size=7, max_size=7))
def test_actions_are_reordered_and_scaled_exactly(order, scale):
    keymap = KeyMap.from_dict({"observation": {"s": "state"},
                               "action": {"indices": order, "scale": scale}})
    reply = np.arange(14, dtype=np.float32).reshape(2, 7)
    out = keymap.from_server({"actions": reply})
    np.testing.assert_allclose(out, reply[:, order] * np.asarray(scale), rtol=1e-6, atol=1e-5)
