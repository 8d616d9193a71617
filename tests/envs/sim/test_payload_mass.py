"""A load carried as mass: mass, centre of mass, inertia and subtree masses follow the payload,
and bodies it cannot describe are refused in one line."""

import mujoco
import numpy as np
import pytest

from librobot_gym.envs.sim.payload_mass import CarriedPayload
from librobot_gym.errors import ConfigError

MJCF = """
<mujoco>
  <worldbody>
    <body name="frame" pos="0 0 1">
      <freejoint/>
      <inertial pos="0 0 0" mass="1000" diaginertia="100 100 100"/>
      <body name="box" pos="1 0 0">
        <inertial pos="0.5 0 0.2" mass="200" diaginertia="10 20 30" {iquat}/>
        <geom name="load" type="ellipsoid" size="1 0.5 0.25" contype="0" conaffinity="0"/>
        <site name="payload" pos="0.5 {site_y} 0.6"/>
      </body>
    </body>
  </worldbody>
</mujoco>
"""


def carried(iquat="", site_y="0"):
    model = mujoco.MjModel.from_xml_string(MJCF.format(iquat=iquat, site_y=site_y))
    body, site = model.body("box").id, model.site("payload").id
    return model, CarriedPayload(model, body, site, "load")


def test_mass_centre_inertia_and_subtree_masses_follow_the_payload():
    model, load = carried()
    box, frame = model.body("box").id, model.body("frame").id
    load.set(600.0)
    assert model.body_mass[box] == pytest.approx(800.0)
    np.testing.assert_allclose(model.body_ipos[box], [0.5, 0.0, 0.5])  # (200*0.2 + 600*0.6)/800
    # Own inertia + 200 x 0.3^2 (x, y), + the load's ellipsoid m/5 (b^2 + c^2) + 600 x 0.1^2.
    expected = np.array([10 + 18 + 600 * (0.25 + 0.0625) / 5 + 6,
                         20 + 18 + 600 * (1 + 0.0625) / 5 + 6,
                         30 + 600 * (1 + 0.25) / 5])
    np.testing.assert_allclose(model.body_inertia[box], expected)
    assert model.body_subtreemass[frame] == pytest.approx(1800.0)
    assert model.body_subtreemass[0] == pytest.approx(1800.0)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    com = (1000 * data.xipos[frame] + 800 * data.xipos[box]) / 1800
    np.testing.assert_allclose(data.subtree_com[frame], com, atol=1e-12)
    load.set(0.0)
    assert model.body_mass[box] == pytest.approx(200.0)
    assert model.body_subtreemass[frame] == pytest.approx(1200.0)
    np.testing.assert_allclose(model.body_inertia[box], [10, 20, 30])


def test_a_rotated_inertia_or_an_off_axis_site_is_refused():
    with pytest.raises(ConfigError, match="diaginertia without a rotation"):
        carried(iquat='quat="0.9238795 0 0 0.3826834"')
    with pytest.raises(ConfigError, match="straight above or below"):
        carried(site_y="0.3")
