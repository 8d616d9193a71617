"""Small suite cards for runner tests, written next to each test."""

import textwrap

import pytest


def write_card(path, episodes=4, seed_start=100, env="librobot/Franka-PickCup-v0",
               control_mode="ee_delta_pose", max_steps=200, obs_modes="[rgb, state]"):
    path.write_text(textwrap.dedent(f"""\
        suite: tiny
        version: 0
        description: test card
        tasks:
          - env: {env}
            episodes: {episodes}
            seed_start: {seed_start}
            max_steps: {max_steps}
            obs_modes: {obs_modes}
            control_mode: {control_mode}
            camera_size: 64
            variants: [default]
        """))
    return path


@pytest.fixture
def tiny_card(tmp_path):
    return write_card(tmp_path / "tiny-v0.yaml")


VLA_IMAGE_SIZE = 32  # the stochastic VLA's camera size


@pytest.fixture(scope="module")
def stochastic_vla(tmp_path_factory) -> str:
    """A tiny octo checkpoint with a diffusion head (noise drawn every prediction) executing
    chunks open-loop: rows fall out of step as episodes start apart."""
    from librobot_gym.policies.vla.config import VLAConfig
    from librobot_gym.policies.vla.policy import VLAPolicy

    path = tmp_path_factory.mktemp("vla") / "octo"
    VLAPolicy(VLAConfig.from_dict({
        "framework": "octo", "vlm": {"name": "tiny", "text_encoder": "learned", "embed_dim": 32},
        "action_dim": 7, "proprio_dim": 22, "chunk_size": 4, "hidden_dim": 32,
        "chunking": {"mode": "receding", "execute_steps": 3},
        "policy": {"control_mode": "ee_delta_pose", "cameras": ["front", "wrist"],
                   "image_size": [VLA_IMAGE_SIZE, VLA_IMAGE_SIZE],
                   "control_hz": 20}})).save_pretrained(path)
    return f"vla:{path}"
