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
