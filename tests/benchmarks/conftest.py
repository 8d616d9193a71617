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
