"""The scripted expert of every arm's tabletop id (every arm x every tabletop task, found in the
registry, so a new arm or task is held to it without a line here): at least 90% on seeds it
was not tuned on, and at least 90 of 100 fresh episodes (slow), never acting on a wrong
object in the fast check. The tasks' own behaviour (language, judging, rewards, twins) is
tested in each task's file."""

from __future__ import annotations

import pytest

from librobot_gym.envs.registration import env_entries
from librobot_gym.envs.tasks import get_task
from librobot_gym.envs.tasks.tabletop import TabletopTask
from librobot_gym.robots import get_robot
from tests.envs.tabletop_checks import expert_record

IDS = sorted(e.id for e in env_entries() if not e.real and get_robot(e.robot).family == "arm"
             and issubclass(get_task(e.task), TabletopTask))


def test_every_arm_has_every_tabletop_task():
    arms = {i.split("/")[1].split("-")[0] for i in IDS}
    tasks = {i.split("-", 1)[1] for i in IDS}
    assert arms == {"Franka", "SO100", "UR5e"} and len(tasks) == 7
    assert len(IDS) == len(arms) * len(tasks)


@pytest.mark.parametrize("env_id", IDS)
def test_the_expert_solves_at_least_90_percent(env_id):
    wins, wrong = expert_record(env_id, range(100, 115))  # not its tuning seeds
    assert wins >= 14 and not wrong, f"{env_id}: {wins}/15, wrong object on seeds {wrong}"


@pytest.mark.slow
@pytest.mark.parametrize("env_id", IDS)
def test_the_expert_solves_at_least_90_of_100_fresh_episodes(env_id):
    wins, _ = expert_record(env_id, range(1000, 1100))
    assert wins >= 90, f"{env_id}: {wins}/100"
