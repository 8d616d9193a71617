"""The H1's high-level locomotion service ("loco") through Unitree's RPC: our `LocoClient` on the
SDK's `unitree_sdk2py.rpc.client.Client` (requests on `rt/api/loco/request`, responses on
`rt/api/loco/response`). The SDK wheel 1.0.1 ships the RPC layer but no H1 loco client; the service
name, API version, ids and parameter JSON below are Unitree's H1 loco API (their C++ SDK,
unitree_sdk2 `include/unitree/robot/h1/loco/h1_loco_api.hpp` and `h1_loco_client.hpp`).

On the robot the loco service runs Unitree's walking controller on board; while it owns the motors
(FSM StandUp / Start) LowCmd is ignored. `base_velocity` needs: SetVelocity (vx, vy, yaw rate,
duration: the command lapses after it), EnableOdom / GetOdom (the service's odometry: x, y m and
yaw rad in its own frame; WalkTo's position comes from it), StopMove (velocity 0), Damp (FSM 1, the
safe stop), StandUp (FSM 2), Start (FSM 204, walking), GetFsmId. A velocity outside the bounds the
client was given is refused here, before anything is sent (`LocoCommandRefused`); a call the
service answers with a non-zero code raises `LocoCallFailed` naming the code.
"""

from __future__ import annotations

import functools
import json
import math

from librobot_gym.errors import InvalidActionError
from librobot_gym.hardware.driver import DriverError

SERVICE = "loco"
API_VERSION = "2.0.0.0"
# API ids (h1_loco_api.hpp).
GET_FSM_ID = 8001
SET_FSM_ID = 8101
SET_VELOCITY = 8105
ENABLE_ODOM = 8201
GET_ODOM = 8203  # data {"x", "y", "z": yaw}
# FSM ids the high-level calls set (h1_loco_client.hpp).
FSM_ZERO_TORQUE = 0
FSM_DAMP = 1
FSM_STAND_UP = 2
FSM_START = 204  # walking: SetVelocity drives it
DEFAULT_DURATION = 1.0  # s a velocity holds unless renewed (the SDK's default)
# RPC status codes (unitree_sdk2py.rpc.internal).
RPC_OK = 0
RPC_ERR_CLIENT_API_TIMEOUT = 3104
RPC_ERR_SERVER_API_PARAMETER = 3204


class LocoCallFailed(DriverError):
    """The loco service answered a call with a non-zero code (or not at all: 3104 is a
    timeout); check that the robot is in a loco FSM (StandUp, Start) and the link, then reset."""


class LocoCommandRefused(InvalidActionError):
    """A velocity outside the robot's walking bounds (or non-finite): refused before sending."""


@functools.cache
def _sdk_client():
    """One SDK RPC client per process: its response reader lives as long as the process (as
    the channels in `sdk.py` do); each `LocoClient` shares it."""
    from unitree_sdk2py.rpc.client import Client

    from librobot_gym.hardware.unitree.sdk import sdk

    sdk()  # the wheel's import fix-up
    client = Client(SERVICE, False)
    client._SetApiVerson(API_VERSION)
    for api in (GET_FSM_ID, SET_FSM_ID, SET_VELOCITY, ENABLE_ODOM, GET_ODOM):
        client._RegistApi(api, 0)
    return client


class LocoClient:
    """The H1's loco service (module doc). `bounds`: ((vx lo, vx hi), vy max, yaw rate max),
    the walking bounds (`WalkLayout`) a velocity must lie in; `timeout`: s per call. The DDS
    domain must be open (`sdk.open_channels`) before construction."""

    def __init__(self, bounds=None, timeout: float = 1.0):
        self.bounds = bounds
        self._client = _sdk_client()
        self._client.SetTimeout(float(timeout))
        self.calls = 0

    def _call(self, api: int, parameter: dict | None) -> str:
        code, data = self._client._Call(api, json.dumps(parameter) if parameter else "")
        self.calls += 1
        if code != RPC_OK:
            raise LocoCallFailed(f"loco API {api} answered code {code}"
                                 f"{' (no answer: timeout)' if code == 3104 else ''}: is the "
                                 f"robot's loco service up and in a loco FSM (StandUp/Start)?")
        return data or ""

    def check(self, vx: float, vy: float, yaw_rate: float) -> None:
        """Raise `LocoCommandRefused` unless (vx, vy, yaw rate) is finite and in `bounds`."""
        values = (float(vx), float(vy), float(yaw_rate))
        if not all(math.isfinite(v) for v in values):
            raise LocoCommandRefused(f"velocity {values} is not finite; send finite numbers")
        if self.bounds is None:
            return
        (lo, hi), vy_max, yaw_max = self.bounds
        if not (lo <= values[0] <= hi and abs(values[1]) <= vy_max
                and abs(values[2]) <= yaw_max):
            raise LocoCommandRefused(
                f"velocity {values} outside the walking bounds vx [{lo}, {hi}], |vy| <= "
                f"{vy_max}, |yaw rate| <= {yaw_max}; clip it (the safety layer does)")

    def set_velocity(self, vx: float, vy: float, yaw_rate: float,
                     duration: float = DEFAULT_DURATION) -> None:
        """Walk at (vx m/s, vy m/s, yaw rate rad/s) for `duration` s (checked first)."""
        self.check(vx, vy, yaw_rate)
        self._call(SET_VELOCITY, {"velocity": [float(vx), float(vy), float(yaw_rate)],
                                  "duration": float(duration)})

    def stop_move(self) -> None:
        self.set_velocity(0.0, 0.0, 0.0)

    def set_fsm(self, fsm_id: int) -> None:
        self._call(SET_FSM_ID, {"data": int(fsm_id)})

    def damp(self) -> None:
        """The safe stop: damping mode (FSM 1)."""
        self.set_fsm(FSM_DAMP)

    def stand_up(self) -> None:
        self.set_fsm(FSM_STAND_UP)

    def start(self) -> None:
        """The walking FSM (204): SetVelocity commands it."""
        self.set_fsm(FSM_START)

    def fsm_id(self) -> int:
        return int(json.loads(self._call(GET_FSM_ID, None))["data"])

    def enable_odometry(self) -> None:
        self._call(ENABLE_ODOM, None)

    def odometry(self) -> tuple[float, float, float]:
        """(x m, y m, yaw rad) in the service's odometry frame."""
        data = json.loads(self._call(GET_ODOM, None))
        return float(data["x"]), float(data["y"]), float(data["z"])
