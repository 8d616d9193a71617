"""GR1-Real-Stand-v0 on its lockstep emulator, end to end through Fourier's client over loopback
Zenoh: the Stand expert (the balance law on the estimated state, whole-body joint_pos in
degrees on the wire) rides out the seeded pushes the emulator's physics applies on >= 9 of 10
seeds; `upper_body` stands with random arm targets; a fall ends the episode as a fall with the
robot damped (kp 0 through control/gains), and the next reset restores the gains."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import librobot_gym  # noqa: F401 - registers the ids

ENV_ID = "librobot/GR1-Real-Stand-v0"
pytestmark = pytest.mark.xdist_group("zenoh-7447")


def make(**kwargs):
    kwargs.setdefault("driver", "fourier:emulator:lockstep")
    kwargs.setdefault("operator", "auto")
    return gym.make(ENV_ID, obs_mode="state", **kwargs)


def test_the_expert_stands_through_the_pushes_on_9_of_10_seeds():
    env = make()
    wins, recoveries = 0, 0
    try:
        u = env.unwrapped
        for seed in range(10):
            env.reset(seed=seed)
            expert = u.task.make_expert()
            for _ in range(500):
                _, _, terminated, truncated, info = env.step(expert.act(u.privileged_state()))
                if terminated or truncated:
                    break
            wins += bool(info["is_success"])
            recoveries += int(info["task_metrics"]["recoveries"])
        driver = u.sim.driver
        assert driver.emulator.commands == driver.sent > 1000  # every target came over the wire
    finally:
        env.close()
    print(f"\nGR1-Real-Stand expert over GRX: {wins}/10, {recoveries}/30 pushes recovered")
    assert wins >= 9


def test_upper_body_balances_with_random_arms():
    env = make(control_mode="upper_body")
    try:
        env.reset(seed=3)
        env.action_space.seed(3)
        for _ in range(150):
            _, _, terminated, _, info = env.step(env.action_space.sample())
            assert not info["safety"]["fell"]
            if terminated:
                break
    finally:
        env.close()


def test_a_fall_ends_the_episode_damped_and_the_reset_restores_the_gains():
    env = make()
    try:
        env.reset(seed=0)
        u = env.unwrapped
        driver = u.sim.driver
        d = driver.emulator.data
        d.qpos[3:7] = (math.cos(0.4), math.sin(0.4), 0.0, 0.0)  # knocked 0.8 rad over
        driver.advance(0.02)
        u.sim._read()
        _, _, terminated, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
        assert terminated and info["safety"]["fell"] and not info["is_success"]
        assert np.all(driver.emulator.kp == 0.0) and np.all(driver.emulator.kd > 0.0)
        env.reset(seed=1)  # re-armed: the servos' gains and commands flow again
        env.step(np.zeros(env.action_space.shape, np.float32))
        assert np.all(driver.emulator.kp > 0.0) and driver.emulator.enabled.all()
    finally:
        env.close()
