"""The wheel loader's and the hauler's -Real- envs on their lockstep ECU emulators: a
drivetrain fault mid-episode aborts the episode with its typed error, the machine holds
(brake, neutral, steering held, implements centred), and the next episode, on the repaired
machine, runs to its end."""

from __future__ import annotations

import pytest

from librobot_gym.benchmarks.rollout import run_episode
from librobot_gym.policies.random import RandomPolicy
from tests.envs.test_conformance import make

IDS = ("librobot/WheelLoader-LoadHauler-Real-v0", "librobot/Hauler-HaulDump-Real-v0")


class FaultingPolicy(RandomPolicy):
    """Random actions; `inject(emulator)` at the 5th step of the first episode."""

    def __init__(self, env, emulator, inject):
        super().__init__(env)
        self.emulator, self.inject, self.steps = emulator, inject, 0

    def act(self, obs):
        self.steps += 1
        if self.steps == 5:
            self.inject(self.emulator)
        return super().act(obs)


@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("fault,error", [("brake_pressure_low", "BrakePressureLow"),
                                         ("transmission_fault", "TransmissionFault")])
def test_a_drivetrain_fault_aborts_the_episode_and_the_next_runs(env_id, fault, error):
    env = make(env_id, max_episode_steps=12, camera_size=16)
    try:
        emulator = env.unwrapped.sim.driver.emulator
        policy = FaultingPolicy(env, emulator, lambda machine: getattr(machine, fault)())
        first = run_episode(env, policy, 0, env_id)
        assert first.aborted and first.length in (4, 5, 6) and error in first.abort_reason
        assert emulator.brake == 1.0 and emulator.requested_gear == 0  # held
        assert emulator.target is None and not emulator.pilots.any()
        emulator.clear_faults()  # repaired
        second = run_episode(env, policy, 1, env_id)
        assert not second.aborted and second.length == 12
    finally:
        env.close()
