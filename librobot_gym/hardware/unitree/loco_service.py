"""The emulated H1's on-board loco service: Unitree's RPC "loco" service (`loco.py` has the API) on
the SDK's `unitree_sdk2py.rpc.server.Server`, running OUR walking controller
(`robots/humanoids/walking/`, the law the simulator's `base_velocity` runs) on board the
`H1Emulator`, as the real robot runs Unitree's.

FSMs (SetFsmId): 0 zero torque (motors off), 1 Damp (kp 0, the damping kd), 2 StandUp (the servos
hold the standing posture), 204 Start (walking: each control period, 1 / control_hz of simulated
time, the law turns the present velocity command and the emulated robot's state into the legs' PD
targets and rates; the rest of the body holds the posture). Until a loco FSM is set (and again
after `restart`) the robot is in low-level mode: LowCmd drives the motors and GetFsmId answers -1;
in any loco FSM the emulator ignores LowCmd, as the real robot does in sport mode. GetOdom answers
the pelvis's x, y, yaw (the emulator's truth). SetVelocity (only in FSM 204) holds for its
`duration` of simulated time, then the robot walks in place at zero velocity. A malformed
parameter, an unknown FSM, a velocity out of the walking bounds or sent outside FSM 204 is answered
with the RPC's parameter error (3204).

Determinism in lockstep: a call is synchronous (the client waits for the answer), so a command is
in place before the driver's next `advance`; the law runs at fixed simulated times.
"""

from __future__ import annotations

import functools
import json
import math
import threading

import mujoco
import numpy as np

from librobot_gym.hardware.humanoid_sim import leg_chain
from librobot_gym.hardware.unitree import h1
from librobot_gym.hardware.unitree.loco import (
    API_VERSION,
    ENABLE_ODOM,
    FSM_DAMP,
    FSM_STAND_UP,
    FSM_START,
    FSM_ZERO_TORQUE,
    GET_FSM_ID,
    GET_ODOM,
    RPC_ERR_SERVER_API_PARAMETER,
    RPC_OK,
    SERVICE,
    SET_FSM_ID,
    SET_VELOCITY,
)
from librobot_gym.robots.humanoids.walking import WalkingController, WalkState, walk_layout_for

LOW_LEVEL = -1  # GetFsmId's answer while LowCmd drives the motors
FSMS = (FSM_ZERO_TORQUE, FSM_DAMP, FSM_STAND_UP, FSM_START)
ROOT = "pelvis"


class OnBoardLoco:
    """The loco state machine and walking law of one emulator (module doc). `model`: the
    emulator's model before its servos became torque motors (the legs' chains and gains are
    read off it); the emulator calls `command(data)` every physics step under its lock."""

    def __init__(self, emulator, model: mujoco.MjModel):
        robot = emulator.robot
        self.emulator = emulator
        self.layout = lay = walk_layout_for(robot)
        names = robot.joint_names
        home = np.array(robot.home_qpos, dtype=np.float64)
        chains = tuple(leg_chain(model, [names[i] for i in leg], sole)
                       for leg, sole in zip(lay.legs, ("left_sole", "right_sole"), strict=True))
        root = model.body(ROOT).id
        self.law = WalkingController(lay, chains, tuple(home[list(leg)] for leg in lay.legs),
                                     float(model.body_subtreemass[root]))
        self.control_dt = 1.0 / robot.control_hz
        slot_names = [n for n in names if n in h1.SLOTS]
        # Each leg joint's position in the emulator's motor vector and in qpos.
        self._legs = [np.array([slot_names.index(names[i]) for i in leg]) for leg in lay.legs]
        self._root = root
        self._free = int(model.jnt_qposadr[int(model.body_jntadr[root])])
        self._soles = [model.site(s).id for s in ("left_sole", "right_sole")]
        n = len(slot_names)
        self._hold = emulator._idle_command()
        self._damp = {"mode": self._hold["mode"].copy(), "q": np.zeros(n), "dq": np.zeros(n),
                      "kp": np.zeros(n), "kd": h1.damping_kd(emulator.slots),
                      "tau": np.zeros(n)}
        self._off = dict(self._damp, mode=np.zeros(n), kd=np.zeros(n))
        self._walk_kd = self._hold["kd"].copy()
        if lay.leg_kd:
            for leg in self._legs:
                self._walk_kd[leg] = np.asarray(lay.leg_kd, dtype=np.float64)
        self.bounds = ((lay.vx_range[0], lay.vx_range[1]), lay.vy_max, lay.yaw_rate_max)
        self.restart()

    def restart(self) -> None:
        """Low-level mode, no velocity, the law to be reset on the next Start."""
        self.fsm = LOW_LEVEL
        self.velocity = np.zeros(3)
        self.until = 0.0
        self._next = 0.0
        self._walk = None
        self.requests = 0

    @property
    def owns_motors(self) -> bool:
        return self.fsm != LOW_LEVEL

    # --- the RPC handlers (the server's thread; under the emulator's lock) ----------------
    def set_fsm(self, fsm: int, now: float) -> int:
        if fsm not in FSMS:
            return RPC_ERR_SERVER_API_PARAMETER
        if fsm == FSM_START and self.fsm != FSM_START:
            self._walk = None  # the law starts from the present stance at the next tick
            self._next = now
            self.velocity[:] = 0.0
        self.fsm = fsm
        return RPC_OK

    def set_velocity(self, velocity, duration: float, now: float) -> int:
        v = np.asarray(velocity, dtype=np.float64)
        (lo, hi), vy_max, yaw_max = self.bounds
        if self.fsm != FSM_START or v.shape != (3,) or not np.all(np.isfinite(v)) \
                or not math.isfinite(duration) or duration < 0 or not lo <= v[0] <= hi \
                or abs(v[1]) > vy_max or abs(v[2]) > yaw_max:
            return RPC_ERR_SERVER_API_PARAMETER
        self.velocity, self.until = v, now + duration
        return RPC_OK

    def odometry(self) -> dict[str, float]:
        """The pelvis's x, y and yaw ("z") in the emulator's world: the truth (a real robot's
        odometry drifts; its frame is its own)."""
        d = self.emulator.data
        w, x, y, z = (float(v) for v in d.qpos[self._free + 3:self._free + 7])
        yaw = math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
        return {"x": float(d.qpos[self._free]), "y": float(d.qpos[self._free + 1]), "z": yaw}

    # --- the motors (every physics step) ---------------------------------------------------
    def command(self, data: mujoco.MjData) -> dict[str, np.ndarray]:
        if self.fsm == FSM_ZERO_TORQUE:
            return self._off
        if self.fsm == FSM_DAMP:
            return self._damp
        if self.fsm == FSM_STAND_UP:
            return self._hold
        if data.time >= self._next - 1e-9:
            self._next += self.control_dt
            self._walk = self._law_step(data)
        return self._walk

    def _law_step(self, data: mujoco.MjData) -> dict[str, np.ndarray]:
        model = self.emulator.model
        mujoco.mj_forward(model, data)
        mujoco.mj_subtreeVel(model, data)
        emu = self.emulator
        q = data.qpos[emu.qadr]
        state = WalkState(data.qpos[self._free:self._free + 3].copy(),
                          data.xmat[self._root].reshape(3, 3).copy(),
                          data.subtree_com[self._root].copy(),
                          data.subtree_linvel[self._root].copy(),
                          np.array([data.site_xpos[s] for s in self._soles]),
                          np.array([math.atan2(data.site_xmat[s][3], data.site_xmat[s][0])
                                    for s in self._soles]),
                          (q[self._legs[0]].copy(), q[self._legs[1]].copy()))
        if self._walk is None:
            self.law.reset(state)
        command = self.velocity if data.time < self.until else np.zeros(3)
        left, right = self.law.targets(state, command, self.control_dt)
        rates = self.law.velocities
        out = {k: v.copy() for k, v in self._hold.items()}
        out["kd"] = self._walk_kd.copy()
        for leg, target, rate in zip(self._legs, (left, right), rates, strict=True):
            out["q"][leg] = target
            out["dq"][leg] = rate
        return out


class LocoServer:
    """The process's one loco RPC server (the SDK's `Server`, whose channels live as long as
    the process, as `sdk.py`'s do); it answers for the emulator `attach` names last."""

    def __init__(self):
        from unitree_sdk2py.rpc.server import Server

        self.loco: OnBoardLoco | None = None
        self._lock = threading.Lock()
        server = Server(SERVICE)
        server._SetApiVersion(API_VERSION)
        server._RegistHandler(GET_FSM_ID, self._get_fsm, False)
        server._RegistHandler(SET_FSM_ID, self._set_fsm, False)
        server._RegistHandler(SET_VELOCITY, self._set_velocity, False)
        server._RegistHandler(ENABLE_ODOM, self._enable_odom, False)
        server._RegistHandler(GET_ODOM, self._get_odom, False)
        server.Start(False)
        self.server = server

    def attach(self, loco: OnBoardLoco | None) -> None:
        with self._lock:
            self.loco = loco

    def _run(self, handle) -> tuple[int, str]:
        with self._lock:
            loco = self.loco
        if loco is None:
            return RPC_ERR_SERVER_API_PARAMETER, ""
        with loco.emulator._lock:
            loco.requests += 1
            return handle(loco, loco.emulator.data.time)

    def _get_fsm(self, _parameter: str) -> tuple[int, str]:
        return self._run(lambda loco, now: (RPC_OK, json.dumps({"data": loco.fsm})))

    def _enable_odom(self, _parameter: str) -> tuple[int, str]:
        return self._run(lambda loco, now: (RPC_OK, ""))

    def _get_odom(self, _parameter: str) -> tuple[int, str]:
        return self._run(lambda loco, now: (RPC_OK, json.dumps(loco.odometry())))

    def _set_fsm(self, parameter: str) -> tuple[int, str]:
        try:
            fsm = json.loads(parameter)["data"]
            fsm = fsm if isinstance(fsm, int) and not isinstance(fsm, bool) else None
        except (ValueError, KeyError, TypeError):
            fsm = None
        if fsm is None:
            return RPC_ERR_SERVER_API_PARAMETER, ""
        return self._run(lambda loco, now: (loco.set_fsm(fsm, now), ""))

    def _set_velocity(self, parameter: str) -> tuple[int, str]:
        try:
            body = json.loads(parameter)
            velocity = [float(v) for v in body["velocity"]]
            duration = float(body.get("duration", 1.0))
        except (ValueError, KeyError, TypeError):
            return RPC_ERR_SERVER_API_PARAMETER, ""
        return self._run(lambda loco, now: (loco.set_velocity(velocity, duration, now), ""))


@functools.cache
def loco_server() -> LocoServer:
    """The process's loco server (the DDS domain must be open: `sdk.open_channels`)."""
    from librobot_gym.hardware.unitree.sdk import sdk

    sdk()
    return LocoServer()
