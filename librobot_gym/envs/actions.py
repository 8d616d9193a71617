"""Checks an action before it reaches physics or hardware, with errors that say what to fix."""

from __future__ import annotations

import numpy as np

from librobot_gym.errors import InvalidActionError


def validate_action(action: object, size: int, control_mode: str) -> np.ndarray:
    """Return `action` as a float vector within [-1, 1] (clipped), or raise InvalidActionError.

    Real-valued numbers of any float or int dtype are accepted (policies often emit float64);
    booleans, complex numbers, strings and objects are not. NaN and inf are refused, never clipped:
    they mean the policy is broken, and clipping them would hide it.
    """
    return check_action(action, size, control_mode)[0]


def check_action(action: object, size: int, control_mode: str) -> tuple[np.ndarray, bool]:
    """`validate_action`, and whether any dimension lay outside [-1, 1] and was clipped (the
    env reports it as `info["safety"]["clipped_action"]`)."""
    if (type(action) is np.ndarray and action.shape == (size,) and action.dtype.kind == "f"
            and np.abs(action).max() <= 1.0):
        return action, False  # the common case, kept cheap: it runs every step (NaN fails <=)
    try:
        array = np.asarray(action)
    except Exception as exc:  # ragged lists and the like
        raise InvalidActionError(
            f"action could not be read as an array ({exc}); pass a numpy array of shape ({size},)"
        ) from None
    if array.dtype.kind not in "fiu":
        raise InvalidActionError(
            f"action dtype {array.dtype} is not a real number type; pass float32 values in "
            f"[-1, 1] of shape ({size},) for control_mode={control_mode!r}"
        )
    if array.shape != (size,):
        raise InvalidActionError(
            f"action shape {array.shape} does not match the action space shape ({size},) of "
            f"control_mode={control_mode!r}; see env.unwrapped.action_spec for each dimension"
        )
    array = array.astype(np.float64, copy=False)
    if not np.all(np.isfinite(array)):
        bad = [i for i, v in enumerate(array) if not np.isfinite(v)]
        raise InvalidActionError(
            f"action has NaN or inf at index {bad}: {array.tolist()}; the policy produced a "
            f"non-finite value, fix it before stepping"
        )
    clipped = np.clip(array, -1.0, 1.0)
    return clipped, bool(np.any(clipped != array))
