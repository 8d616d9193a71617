"""`canonical_quat`: the one form of a rotation's quaternion in observations and scene reports."""

import numpy as np
import pytest

from librobot_gym.scene import canonical_quat


@pytest.mark.parametrize(("quat", "expected"), [
    ((0.5, -0.5, 0.5, -0.5), (0.5, -0.5, 0.5, -0.5)),  # w > 0: as it is
    ((-0.5, 0.5, -0.5, 0.5), (0.5, -0.5, 0.5, -0.5)),  # w < 0: negated
    ((0.0, -1.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0)),  # a half turn: the first non-zero of x, y, z
    ((0.0, 0.0, -0.6, 0.8), (0.0, 0.0, 0.6, -0.8)),
    ((-0.0, 0.0, 0.0, 1.0), (0.0, 0.0, 0.0, 1.0)),
])
def test_canonical_quat_makes_the_first_non_zero_component_positive(quat, expected):
    result = canonical_quat(quat)
    np.testing.assert_array_equal(result, expected)
    assert result.dtype == np.float64
    np.testing.assert_array_equal(canonical_quat(-result), result)  # q and -q: one form


def test_canonical_quat_returns_a_new_array():
    quat = np.array([-1.0, 0.0, 0.0, 0.0])
    assert canonical_quat(quat) is not quat and quat[0] == -1.0


# --- the tabletop additions: looks, meshes, articulated links, the room, camera poses -------
from librobot_gym.errors import ConfigError  # noqa: E402
from librobot_gym.scene import (  # noqa: E402
    CameraPose,
    Cell,
    Material,
    Mesh,
    ObjectLink,
    ObjectPart,
    SceneObject,
    Texture,
    rotation_quat,
)


def test_built_in_textures_only():
    Texture("checker", (1, 1, 1), (0, 0, 0))
    with pytest.raises(ConfigError, match="built-in"):
        Texture("wood.png", (1, 1, 1))
    with pytest.raises(ConfigError, match="mark"):
        Texture("flat", (1, 1, 1), mark="stripes")


def test_a_mesh_needs_triangles_of_its_own_vertices():
    tetra = (0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1)
    Mesh("tetra", tetra, (0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 2, 3))
    with pytest.raises(ConfigError, match="triangles"):
        Mesh("bad", tetra, (0, 1, 4))
    with pytest.raises(ConfigError, match="triangles"):
        Mesh("bad", tetra, (0, 1))


def test_scene_objects_check_their_shapes_meshes_and_links():
    with pytest.raises(ConfigError, match="unknown shape"):
        SceneObject("x", "torus", (1,), (0, 0, 0), (1, 1, 1, 1))
    with pytest.raises(ConfigError, match="mesh=Mesh"):
        SceneObject("x", "box", (1, 1, 1), (0, 0, 0), (1, 1, 1, 1),
                    parts=(ObjectPart("mesh", ()),))
    with pytest.raises(ConfigError, match="slide"):
        ObjectLink("lid", "ball", (0, 0, 1), (0, 1), (ObjectPart("box", (1, 1, 1)),))
    with pytest.raises(ConfigError, match="limits"):
        ObjectLink("lid", "hinge", (0, 0, 1), (1, 0), (ObjectPart("box", (1, 1, 1)),))


def test_a_material_is_data_and_compares_by_value():
    a = Material("m", texture=Texture("flat", (0.5, 0.5, 0.5)))
    assert a == Material("m", texture=Texture("flat", (0.5, 0.5, 0.5)))
    assert a != Material("m")


def test_camera_pose_looks_at_its_target_with_up_up():
    import mujoco

    pose = CameraPose("front", (1.0, 0.0, 0.5), (0.0, 0.0, 0.0), 45.0)
    rot = np.empty(9)
    mujoco.mju_quat2Mat(rot, pose.quat())
    rot = rot.reshape(3, 3)
    view = np.array([-1.0, 0.0, -0.5]) / np.sqrt(1.25)
    np.testing.assert_allclose(-rot[:, 2], view, atol=1e-12)  # looks along its -z
    np.testing.assert_allclose(rot[:, 0], [0, 1, 0], atol=1e-12)  # image right: +y
    assert rot[2, 1] > 0  # image up points up
    with pytest.raises(ConfigError, match="lookat"):
        CameraPose("front", (0, 0, 1), (0, 0, 0), 45.0).quat()  # up along the view


def test_rotation_quat_inverts_mujocos_quat_to_mat():
    import mujoco

    rng = np.random.default_rng(0)
    for _ in range(20):
        q = canonical_quat(rng.normal(size=4) / 1.0)
        q /= np.linalg.norm(q)
        mat = np.empty(9)
        mujoco.mju_quat2Mat(mat, q)
        np.testing.assert_allclose(rotation_quat(mat.reshape(3, 3)), canonical_quat(q),
                                   atol=1e-12)


def test_a_cell_holds_the_scene_objects_not_the_room_or_cameras():
    class Task:
        floor_height = -0.75

        def scene(self):
            return [SceneObject("a", "box", (1, 1, 1), (0, 0, 0), (1, 1, 1, 1)),
                    CameraPose("front", (1, 0, 1), (0, 0, 0), 45.0)]

    cell = Cell.of(Task())
    assert [o.name for o in cell.objects] == ["a"] and cell.floor_height == -0.75
