"""The tabletop scene: the object set, the lab cell and the tabletop cameras, built in MuJoCo.

What a person checks by looking, checked by measuring: every kind stands on the table and
behaves (a drawer slides, a button springs back), objects are big enough in the front image,
the wrist view shows both fingers and what is between them, nothing parked is in sight.
"""

from dataclasses import replace

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from librobot_gym.envs.sim.scene import build_model
from librobot_gym.envs.tasks.lab_cell import TABLE_TOP, lab_scene
from librobot_gym.envs.tasks.meshes import revolve, signed_volume, tube_arc
from librobot_gym.envs.tasks.objects import COLOURS, KINDS, PRESS_TRAVEL, make_object
from librobot_gym.envs.tasks.tabletop_layouts import TabletopLayout
from librobot_gym.errors import ConfigError
from librobot_gym.robots import get_robot
from librobot_gym.scene import Material, ObjectPart, SceneObject

FRANKA = get_robot("franka_panda")
LAYOUT = TabletopLayout.for_robot(FRANKA)
IDS = ("librobot/Franka-PickCup-v1", "librobot/SO100-PickCup-v1")


def model_with(*objects, robot=FRANKA, fast_render=True):
    layout = TabletopLayout.for_robot(robot)
    return build_model(robot, lab_scene(layout) + list(objects), fast_render,
                       -layout.floor_depth)


def on_table(kind, name=None, x=0.5, y=0.0, scale=1.0, colour="red"):
    obj = make_object(kind, name or kind, scale, colour)
    return replace(obj, pos=(x, y, TABLE_TOP + KINDS[kind].rest_z * scale))


def test_the_set_has_eight_kinds_six_colours_and_mass_and_friction():
    assert len(KINDS) >= 8 and len(COLOURS) >= 6
    for kind in KINDS:
        obj = make_object(kind, kind, 0.6, "blue")
        assert obj.friction > 0 and (obj.free or KINDS[kind].fixed)
        assert obj.mass is None or obj.mass == pytest.approx(KINDS[kind].mass * 0.36)
    with pytest.raises(ConfigError, match="kind"):
        make_object("teapot", "x")
    with pytest.raises(ConfigError, match="colour"):
        make_object("cup", "x", colour="mauve")


@pytest.mark.parametrize("kind", [k for k in KINDS if not KINDS[k].fixed])
def test_every_free_kind_stands_still_and_upright_on_the_table(kind):
    model = model_with(on_table(kind))
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    start = data.body(kind).xpos.copy()
    mujoco.mj_step(model, data, nstep=400)  # 1 s
    assert np.linalg.norm(data.body(kind).xpos - start) < 0.003
    assert data.body(kind).xmat[8] > 0.999  # its z axis still up


def test_meshes_written_in_code_are_closed_and_face_outwards():
    cup = revolve("c", [(0, 0), (0.03, 0), (0.03, 0.1), (0.026, 0.1), (0.026, 0.01), (0, 0.01)])
    shell = np.pi * (0.03 ** 2 * 0.1 - 0.026 ** 2 * 0.09)  # a 24-gon is a little smaller
    assert 0.95 * shell < signed_volume(cup) < shell
    handle = tube_arc("h", 0.02, 0.004, -1.3, 1.3)
    assert signed_volume(handle) == pytest.approx(np.pi * 0.004 ** 2 * 0.02 * 2.6, rel=0.15)


def test_a_drawer_slides_within_its_travel_and_a_button_springs_back():
    model = model_with(on_table("drawer", x=0.7), on_table("button", y=0.3))
    data = mujoco.MjData(model)
    drawer, cap = model.joint("drawer_drawer"), model.joint("button_cap")
    data.qfrc_applied[drawer.dofadr[0]] = 5.0  # pull it open
    mujoco.mj_step(model, data, nstep=800)
    assert data.qpos[drawer.qposadr[0]] == pytest.approx(drawer.range[1], abs=0.005)
    data.qfrc_applied[drawer.dofadr[0]] = 0.0
    data.qfrc_applied[cap.dofadr[0]] = -10.0  # press
    mujoco.mj_step(model, data, nstep=200)
    assert data.qpos[cap.qposadr[0]] == pytest.approx(-PRESS_TRAVEL, abs=0.001)
    data.qfrc_applied[cap.dofadr[0]] = 0.0  # let go
    mujoco.mj_step(model, data, nstep=400)
    assert data.qpos[cap.qposadr[0]] > -0.1 * PRESS_TRAVEL


def test_the_lab_cell_has_a_floor_walls_a_textured_table_lights_and_no_shadows_by_default():
    model = model_with()
    names = {model.geom(i).name for i in range(model.ngeom)}
    assert {"floor", "table", "wall_back", "wall_left", "wall_right", "wall_front"} <= names
    assert all(model.geom_matid[model.geom(n).id] >= 0 for n in ("floor", "wall_back"))
    table = model.geom_matid[model.geom("table").id]
    assert model.mat_texid[table, int(mujoco.mjtTextureRole.mjTEXROLE_RGB)] >= 0
    assert model.nlight == 3
    assert model.opt.enableflags & int(mujoco.mjtEnableBit.mjENBL_SLEEP)
    assert model.vis.quality.shadowsize == 0
    assert model_with(fast_render=False).light_castshadow.any()


def test_looks_under_one_name_must_be_one_look():
    one = SceneObject("a", "box", (0.02,) * 3, (0.5, 0, 0.02), (1, 0, 0, 1),
                      material=Material("glossy", specular=0.9))
    other = replace(one, name="b", material=Material("glossy", specular=0.1))
    with pytest.raises(ConfigError, match="glossy"):
        model_with(one, other)


def test_tabletop_cameras_replace_where_the_robots_cameras_look_and_v0_keeps_its_own():
    v0 = gym.make("librobot/Franka-PickCup-v0", obs_mode="state")
    v1 = gym.make("librobot/Franka-PickCup-v1", obs_mode="state")
    try:
        for camera in ("front", "wrist"):
            a, b = v0.unwrapped.sim.model.camera(camera), v1.unwrapped.sim.model.camera(camera)
            assert a.bodyid == b.bodyid and not np.allclose(a.pos, b.pos)
            np.testing.assert_allclose(b.pos, LAYOUT.cameras[camera]["pos"])
        with pytest.raises(ConfigError, match="lacks"):
            from librobot_gym.scene import CameraPose

            build_model(FRANKA, [CameraPose("top", (0, 0, 1), (0.1, 0, 0), 45.0)], True)
    finally:
        v0.close()
        v1.close()


# --- what the cameras see --------------------------------------------------------------------
def segment(env, camera: str, size: int) -> np.ndarray:
    """Per pixel, the id of the body whose geom shows there (-1: none)."""
    sim = env.unwrapped.sim
    renderer = mujoco.Renderer(sim.model, size, size)
    try:
        renderer.enable_segmentation_rendering()
        renderer.update_scene(sim.data, camera=camera)
        seg = renderer.render()
    finally:
        renderer.close()
    ids, types = seg[..., 0], seg[..., 1]
    return np.where((types == int(mujoco.mjtObj.mjOBJ_GEOM)) & (ids >= 0),
                    sim.model.geom_bodyid[np.clip(ids, 0, None)], -1)


def extent(mask: np.ndarray) -> int:
    """The larger side (pixels) of a mask's bounding box; 0 if empty."""
    rows, cols = np.nonzero(mask)
    return 0 if rows.size == 0 else int(max(np.ptp(rows), np.ptp(cols)) + 1)


@pytest.mark.parametrize("env_id", IDS)
def test_objects_are_twelve_pixels_at_128_visible_at_64_and_parked_ones_unseen(env_id):
    env = gym.make(env_id, obs_mode="state")
    try:
        model = env.unwrapped.sim.model
        for seed in range(5):
            env.reset(seed=seed)
            task = env.unwrapped.task
            seen = {size: segment(env, "front", size) for size in (128, 64)}
            for name in task.active:
                body = model.body(name).id
                assert extent(seen[128] == body) >= 12, (seed, name)
                assert extent(seen[64] == body) >= 5, (seed, name)
            wrist = segment(env, "wrist", 64)
            parked = [model.body(n).id for n, _ in task.pool if n not in task.active]
            assert not np.isin(seen[64], parked).any() and not np.isin(wrist, parked).any()
    finally:
        env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_the_views_are_the_room_not_void(env_id):
    """Every pixel of both views shows something (walls, floor, table, robot, objects)."""
    env = gym.make(env_id, obs_mode="state")
    try:
        env.reset(seed=0)
        for camera in ("front", "wrist"):
            assert (segment(env, camera, 64) >= 0).all(), camera
    finally:
        env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_the_wrist_view_shows_both_fingers_and_the_target_between_them(env_id):
    from librobot_gym.policies import ExpertPolicy

    env = gym.make(env_id, obs_mode="state")
    try:
        sim = env.unwrapped.sim
        fingers = {int(sim.model.geom_bodyid[sim.model.geom(g).id])
                   for g in env.unwrapped.robot.gripper.pad_geoms}
        expert = ExpertPolicy(env)
        obs, _ = env.reset(seed=1)
        expert.reset()
        for _ in range(200):  # to the moment the fingers close on the target
            obs, *_ = env.step(expert.act(obs))
            if expert.expert.skill.phase == expert.expert.skill.CLOSE:
                break
        seen = segment(env, "wrist", 128)
        target = sim.model.body(env.unwrapped.task.target).id
        for finger in fingers:
            assert (seen == finger).any(), "a finger is out of the wrist view"
        robot = np.isin(seen, list(fingers)).mean()
        assert (seen == target).mean() > 0.05 and robot < 0.3
        cols = np.nonzero(seen == target)[1]
        assert 0.25 * 128 < cols.mean() < 0.75 * 128  # the target in the middle
    finally:
        env.close()


def test_grasps_count_an_objects_colliding_parts():
    obj = SceneObject("box", "box", (0.02,) * 3, (0.5, 0, 0.02), (1, 0, 0, 1), mass=0.1,
                      parts=(ObjectPart("box", (0.01,) * 3, (0.03, 0, 0), collide=True),
                             ObjectPart("box", (0.01,) * 3, (-0.03, 0, 0))))
    from librobot_gym.envs.sim.scene import colliding_geoms

    assert colliding_geoms(obj) == ["box", "box_part0"]


def test_a_mark_on_the_table_is_seen_and_not_felt():
    mark = SceneObject("spot", "cylinder", (0.04, 0.0005), (0.5, 0.0, 0.0005), (1, 0, 0, 1),
                       collide=False)
    cup = on_table("cup", x=0.5)
    model = model_with(mark, cup)
    data = mujoco.MjData(model)
    mujoco.mj_step(model, data, nstep=200)
    assert model.geom_contype[model.geom("spot").id] == 0
    assert data.body("cup").xpos[2] == pytest.approx(KINDS["cup"].rest_z, abs=0.002)
    with pytest.raises(ConfigError, match="fixed marks"):
        replace(mark, mass=0.1)


def test_the_scene_grid_script_renders_a_png(tmp_path):
    """scripts/render_scenes.py, which makes the README's picture, still runs."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "render_scenes.py"
    out = tmp_path / "grid.png"
    done = subprocess.run([sys.executable, str(script), "--seeds", "0", "--size", "32",
                           "--zoom", "1", "--env", IDS[1], "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    from PIL import Image

    with Image.open(out) as image:
        assert image.width >= 64 and image.height >= 64
