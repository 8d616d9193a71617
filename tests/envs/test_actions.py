"""Action validation: anything that is not a finite real vector of the right size is refused."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from librobot_gym.envs.actions import check_action, validate_action
from librobot_gym.errors import InvalidActionError

SIZE = 7


@given(hnp.arrays(np.float64, SIZE, elements=st.floats(allow_nan=True, allow_infinity=True)))
def test_finite_actions_are_clipped_and_non_finite_refused(action):
    if np.all(np.isfinite(action)):
        out = validate_action(action, SIZE, "ee_delta_pose")
        assert out.shape == (SIZE,) and np.all(np.abs(out) <= 1.0)
        np.testing.assert_array_equal(out, np.clip(action, -1, 1))
    else:
        with pytest.raises(InvalidActionError, match="NaN or inf"):
            validate_action(action, SIZE, "ee_delta_pose")


@given(hnp.array_shapes(min_dims=0, max_dims=3, max_side=9))
def test_wrong_shapes_are_refused(shape):
    if shape == (SIZE,):
        return
    with pytest.raises(InvalidActionError, match="shape"):
        validate_action(np.zeros(shape), SIZE, "ee_delta_pose")


@given(st.sampled_from([np.int8, np.int64, np.uint8, np.float16, np.float32]))
def test_real_dtypes_are_accepted(dtype):
    out = validate_action(np.zeros(SIZE, dtype=dtype), SIZE, "joint_pos")
    assert out.dtype.kind == "f" and out.shape == (SIZE,) and not out.any()


def test_python_lists_are_accepted_and_ragged_ones_refused():
    assert validate_action([0.0] * SIZE, SIZE, "joint_pos").shape == (SIZE,)
    with pytest.raises(InvalidActionError):
        validate_action([[0.0], [0.0, 1.0]], SIZE, "joint_pos")


@settings(deadline=None)  # trivial work; a loaded machine must not fail it
@given(hnp.arrays(np.float64, SIZE, elements=st.floats(-1e30, 1e30)))
def test_check_action_says_when_it_clipped(action):
    out, clipped = check_action(action, SIZE, "ee_delta_pose")
    np.testing.assert_array_equal(out, np.clip(action, -1, 1))
    assert clipped == bool(np.any(np.abs(action) > 1.0))
