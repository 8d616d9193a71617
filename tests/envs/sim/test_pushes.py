"""Task pushes in MuJoCo (`envs/sim/pushes.py`): a push acts on the control steps whose middle
falls in its window, at the body it names, and delivers its impulse."""

from __future__ import annotations

import mujoco
import pytest

from librobot_gym.envs.sim.pushes import Pushes
from librobot_gym.envs.tasks.base import Push
from librobot_gym.errors import ConfigError

XML = """<mujoco><option gravity="0 0 0" timestep="0.005"/><worldbody>
<body name="block"><freejoint/><geom type="box" size="0.1 0.1 0.1" mass="10"/></body>
</worldbody></mujoco>"""


def test_a_push_acts_on_whole_control_steps_and_delivers_its_impulse():
    model = mujoco.MjModel.from_xml_string(XML)
    data = mujoco.MjData(model)
    pushes = Pushes(model, data)
    pushes.reset((Push("block", 0.1, 0.1, (50.0, 0.0, 0.0)),))  # 5 N s over 5 steps of 20 ms
    active = []
    for _ in range(20):
        pushes.apply(data.time, 0.02)
        active.append(bool(data.xfrc_applied[model.body("block").id, 0]))
        mujoco.mj_step(model, data, nstep=4)
    assert active == [False] * 5 + [True] * 5 + [False] * 10
    assert data.qvel[0] == pytest.approx(5.0 / 10.0, rel=1e-6)  # impulse / mass, m/s
    assert not data.xfrc_applied.any()


def test_a_push_on_a_body_the_model_lacks_is_refused():
    model = mujoco.MjModel.from_xml_string(XML)
    with pytest.raises(ConfigError, match="push one of the robot's bodies"):
        Pushes(model, mujoco.MjData(model)).reset((Push("torso", 0.0, 0.1, (1.0, 0.0, 0.0)),))
