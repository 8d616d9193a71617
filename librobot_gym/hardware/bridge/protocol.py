"""The robot bridge's wire format, version 1: frames, ops, and how driver values travel.

Transport: one websocket per client. Every frame is a *binary* frame holding one msgpack map
with str keys; NumPy arrays travel as openpi's array maps (`librobot_gym/wire`), so they
arrive with their dtype and shape. A text frame, or anything else, is malformed.

    frame     direction         map
    --------  ----------------  ------------------------------------------------------------
    hello     server -> client  {"v": 1, "hello": {"driver": NAME, "protocol": 1,
              (first frame)                        "heartbeat_s": SECONDS}}
    request   client -> server  {"v": 1, "id": N, "op": OP, "args": {...}}
    reply     server -> client  {"v": 1, "id": N, "ok": true, "result": RESULT,
                                 "clock": SECONDS}
    error     server -> client  {"v": 1, "id": N | nil, "ok": false, "clock": SECONDS,
                                 "error": {"type": TYPE, "message": str, "traceback": str}}
    busy      server -> client  an error frame with id nil instead of the hello (the server
              (instead of hello) already has a client), then close code 1013 (try again later)

    op             args                                               result
    -------------  -------------------------------------------------  --------------------------
    connect        {}                                                 nil
    read_state     {}                                                 STATE
    command        {"joint_targets": f8[n], "gripper_opening": float}  {violation: float}
    move_to        {"joint_pos": f8[n], "gripper_opening": float,       nil
                    "timeout": float}
    stop           {}                                                 nil
    reset_scene    {"poses": {name: [f8[3] pos, f8[4] quat]},          bool
                    "colours": {name: [float, ...]}}
    scene          {}                                                 SCENE | nil
    camera_frames  {"size": [H, W]}                                   {camera: u1[H, W, 3]} | nil
    advance        {"dt": float}                                      bool
    start_episode  {"seed": int | nil}                                nil
    ping           {}                                                 nil
    info           {}                                                 {"driver": NAME,
                                                                       "protocol": 1,
                                                                       "heartbeat_s": SECONDS,
                                                                       "ops": [OP, ...],
                                                                       "realtime": bool,
                                                                       "stand_in": STAND_IN}

    STATE = {"joint_pos": f8[n], "joint_vel": f8[n], "gripper_opening": float,
             "stamp": float (the server's clock), "extras": {str: any msgpack value or array}}
    SCENE = {"object_pos": {name: f8[3]}, "object_quat": {name: f8[4] wxyz},
             "grasped": {name: bool}}
    STAND_IN = {"spec": str, "simulates": str, "objects": bool}: only where the served driver
               stands in for a robot (a twin, an emulator; `Driver.stand_in`), absent for a robot

Arguments are checked before any driver call: numbers finite, arrays 1-D of the right length,
quaternions of norm 1 (within 1e-3), colours four values in [0, 1], at most MAX_OBJECTS objects
with names of at most MAX_NAME characters, `timeout` at most MAX_MOVE_TIMEOUT s, `dt` at most
MAX_ADVANCE s, a camera `size` at most MAX_CAMERA_SIDE pixels a side and MAX_CAMERA_PIXELS in
all. The server then holds every motion and scene request to the robot's limits (`guard.py`): a
`command` or `move_to` outside the joint limits or the gripper's range, a `move_to` posture
that puts the tool outside the workspace box, or a `reset_scene` position outside it is refused
with a "LimitViolation"; `command` targets are clipped to one step per control period and the
workspace box, and the result names what was clipped (an empty map: nothing; a server before
this check answered nil).

Error TYPEs: "RobotFault", "DriverDisconnected", "LimitViolation" (a target or pose outside the
robot's limits: nothing was sent to the driver), "DriverError" (the driver raised one, or
failed in another way: then the traceback says how), "BadRequest" (the request was malformed:
not msgpack, not a map, wrong version, unknown op, missing, ill-typed or out-of-range args; the
connection keeps serving). A client that does not know a type treats it as "DriverError".

"ops" in info lists what the served driver implements: `reset_scene`, `scene`, `camera_frames`
and `start_episode` only when it overrides the `Driver` defaults, `advance` only when it has one
(a lockstep twin, which `start_episode` restarts, seeded, so that a seed replays its episode
through the bridge); "realtime" is false for a driver that keeps simulated time (the lockstep
twin). Ids are integers chosen by the client; replies may come out of order (`stop` and `ping`
overtake a slow `move_to`), so the client matches them by id.

Clock: "clock" (optional for the client) is the served driver's clock when the reply was made:
its `now()` where it has one (a twin), else the robot PC's `time.monotonic()`; state stamps are
on that clock. The client estimates the offset to its own clock from the replies with the
shortest round trip, so that `BridgeDriver.now() - state.stamp` is the age of a state.

Heartbeat: the server stops the driver when its client sends no frame for `heartbeat_s`
seconds (or disconnects), then closes the connection; an idle client therefore sends `ping`
well within that. Time the server spends serving a request (a slow camera render) does not
count as silence, except for `move_to`, during which the robot moves: a client keeps pinging
while it waits for that reply.

Authentication (`librobot_gym/wire/auth.py`): a server may demand a shared token in the
handshake (`Authorization: Bearer <token>`, else HTTP 401 before the hello), and must where it
listens beyond loopback; wss:// where it has a TLS certificate.

A frame whose "v" is not 1 is refused: by the server with a BadRequest naming both versions, by
the client with a DriverError.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from librobot_gym.hardware.driver import (
    LimitViolation,
    RobotState,
    SceneReport,
    checked_colour,
    checked_pose,
)
from librobot_gym.wire import msgpack_numpy

VERSION = 1
OPS = ("connect", "read_state", "command", "move_to", "stop", "reset_scene", "scene",
       "camera_frames", "advance", "start_episode", "ping", "info")
OPTIONAL_OPS = ("reset_scene", "scene", "camera_frames", "advance", "start_episode")
ERROR_TYPES = ("RobotFault", "DriverDisconnected", "LimitViolation", "DriverError",
               "BadRequest")
MAX_OBJECTS = 64  # objects in one reset_scene
MAX_NAME = 64  # characters of an object's name
MAX_MOVE_TIMEOUT = 300.0  # s a move_to may be given
MAX_ADVANCE = 1.0  # s of simulated time one advance may ask for
MAX_CAMERA_SIDE = 4096  # pixels
MAX_CAMERA_PIXELS = 1920 * 1080  # per camera: a reply of a few cameras stays well within 64 MiB


class ProtocolError(ValueError):
    """A frame that breaks the format above; `request_id` is its id when that much was read."""

    def __init__(self, message: str, request_id: int | None = None):
        super().__init__(message)
        self.request_id = request_id


# --- frames -------------------------------------------------------------------------------------
def pack(frame: dict) -> bytes:
    return msgpack_numpy.packb(frame)


def unpack(message: Any) -> dict:
    """The map in a frame, checked for its version; ProtocolError says what was wrong."""
    if isinstance(message, str):
        raise ProtocolError("expected a binary frame holding msgpack, got a text frame")
    try:
        frame = msgpack_numpy.unpackb(message)
    except Exception as exc:  # msgpack and the array hook raise many types for garbage
        raise ProtocolError(f"not msgpack ({type(exc).__name__}: {exc})") from exc
    if not isinstance(frame, dict):
        raise ProtocolError(f"expected a msgpack map, got {type(frame).__name__}")
    if frame.get("v") != VERSION:
        raise ProtocolError(f"protocol version {frame.get('v')!r}, but this side speaks "
                            f"version {VERSION}: run the same librobot-gym on both computers",
                            _int_id(frame.get("id")))
    return frame


def hello(driver: str, heartbeat_s: float) -> bytes:
    return pack({"v": VERSION, "hello": {"driver": driver, "protocol": VERSION,
                                         "heartbeat_s": heartbeat_s}})


def request(request_id: int, op: str, args: dict) -> bytes:
    return pack({"v": VERSION, "id": request_id, "op": op, "args": args})


def reply(request_id: int | None, result: Any, clock: float | None = None) -> bytes:
    return pack({"v": VERSION, "id": request_id, "ok": True, "result": result,
                 **_clock(clock)})


def error(request_id: int | None, kind: str, message: str, traceback: str = "",
          clock: float | None = None) -> bytes:
    return pack({"v": VERSION, "id": request_id, "ok": False, **_clock(clock),
                 "error": {"type": kind, "message": message, "traceback": traceback}})


def _clock(clock: float | None) -> dict:
    return {} if clock is None else {"clock": float(clock)}


def check_hello(frame: dict) -> dict:
    """The hello map of a server's first frame (its "protocol" checked)."""
    body = frame.get("hello")
    if not isinstance(body, dict):
        raise ProtocolError(f"expected the hello frame first, got keys {sorted(map(str, frame))}")
    if body.get("protocol") != VERSION:
        raise ProtocolError(f"the bridge speaks protocol {body.get('protocol')!r}, this client "
                            f"speaks {VERSION}: run the same librobot-gym on both computers")
    _text(body.get("driver"), "hello.driver")
    return body


def check_reply(frame: dict) -> dict:
    """A reply or error frame with the right types; the error map is checked too."""
    if "id" not in frame:
        raise ProtocolError(f"reply has no id (keys {sorted(map(str, frame))})")
    request_id = frame["id"]
    if request_id is not None and _int_id(request_id) is None:
        raise ProtocolError(f"reply id {request_id!r} is not an integer")
    if not isinstance(frame.get("ok"), bool):
        raise ProtocolError(f"reply has no boolean 'ok' (keys {sorted(map(str, frame))})")
    if "clock" in frame and not math.isfinite(_number(frame["clock"], "clock")):
        raise ProtocolError(f"clock {frame['clock']} is not finite")
    if not frame["ok"]:
        failure = frame.get("error")
        if not isinstance(failure, dict):
            raise ProtocolError(f"error reply without an error map: {failure!r:.80}")
        for key in ("type", "message"):
            _text(failure.get(key), f"error.{key}")
        if not isinstance(failure.get("traceback", ""), str):
            raise ProtocolError("error.traceback is not a string")
    return frame


def decode_request(message: Any) -> tuple[int, str, dict]:
    """(id, op, checked args) of a request frame; ProtocolError (with the id if read) if not."""
    frame = unpack(message)
    request_id = _int_id(frame.get("id"))
    if request_id is None:
        raise ProtocolError(f"request id {frame.get('id')!r} is not an integer")
    op = frame.get("op")
    if op not in OPS:
        raise ProtocolError(f"unknown op {op!r}; ops are {', '.join(OPS)}", request_id)
    args = frame.get("args", {})
    if not isinstance(args, dict):
        raise ProtocolError(f"{op}: args must be a map, got {type(args).__name__}", request_id)
    try:
        return request_id, op, _ARGS.get(op, _no_args)(args)
    except ProtocolError as exc:
        raise ProtocolError(f"{op}: {exc}", request_id) from None


# --- requests: what the client sends, checked by the server --------------------------------------
def command_args(joint_targets: Any, gripper_opening: float) -> dict:
    return {"joint_targets": np.asarray(joint_targets, dtype=np.float64),
            "gripper_opening": float(gripper_opening)}


def move_to_args(joint_pos: Any, gripper_opening: float, timeout: float) -> dict:
    return {"joint_pos": np.asarray(joint_pos, dtype=np.float64),
            "gripper_opening": float(gripper_opening), "timeout": float(timeout)}


def reset_scene_args(poses: dict, colours: dict) -> dict:
    return {"poses": {name: [np.asarray(pos, dtype=np.float64),
                             np.asarray(quat, dtype=np.float64)]
                      for name, (pos, quat) in poses.items()},
            "colours": {name: [float(c) for c in rgba] for name, rgba in colours.items()}}


def _no_args(args: dict) -> dict:
    return {}


def _command(args: dict, joints: str = "joint_targets") -> dict:
    targets = _vector(_arg(args, joints), joints)
    opening = _number(_arg(args, "gripper_opening"), "gripper_opening")
    if not (np.isfinite(targets).all() and math.isfinite(opening)):
        raise ProtocolError(f"{joints} and gripper_opening must be finite")
    return {joints: targets, "gripper_opening": opening}


def _move_to(args: dict) -> dict:
    return {**_command(args, "joint_pos"),
            "timeout": _duration(_arg(args, "timeout"), "timeout", MAX_MOVE_TIMEOUT)}


def _reset_scene(args: dict) -> dict:
    poses, colours = {}, {}
    try:
        for name, pose in _objects(_arg(args, "poses"), "poses").items():
            if not isinstance(pose, list | tuple) or len(pose) != 2:
                raise ProtocolError(f"poses[{name!r}] must be [pos, quat]")
            poses[name] = checked_pose(name, _vector(pose[0], f"poses[{name!r}] pos", 3),
                                       _vector(pose[1], f"poses[{name!r}] quat", 4))
        for name, rgba in _objects(_arg(args, "colours"), "colours").items():
            colours[name] = checked_colour(name, _vector(rgba, f"colours[{name!r}]"))
    except LimitViolation as exc:  # malformed values: not a question of the robot's limits
        raise ProtocolError(str(exc)) from None
    return {"poses": poses, "colours": colours}


def _objects(value: Any, what: str) -> dict:
    objects = _names(value, what)
    if len(objects) > MAX_OBJECTS or any(len(name) > MAX_NAME for name in objects):
        raise ProtocolError(f"{what}: at most {MAX_OBJECTS} objects with names of at most "
                            f"{MAX_NAME} characters")
    return objects


def _camera_frames(args: dict) -> dict:
    size = _arg(args, "size")
    if (not isinstance(size, list | tuple) or len(size) != 2
            or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size)):
        raise ProtocolError(f"size must be [height, width] positive integers, got {size!r:.80}")
    if max(size) > MAX_CAMERA_SIDE or size[0] * size[1] > MAX_CAMERA_PIXELS:
        raise ProtocolError(f"size {list(size)} is too large: at most {MAX_CAMERA_SIDE} pixels "
                            f"a side and {MAX_CAMERA_PIXELS} in all")
    return {"size": (size[0], size[1])}


def _advance(args: dict) -> dict:
    return {"dt": _duration(_arg(args, "dt"), "dt", MAX_ADVANCE)}


def _start_episode(args: dict) -> dict:
    seed = _arg(args, "seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)
                             or not 0 <= seed < 2**63):
        raise ProtocolError(f"seed must be nil or an integer in [0, 2**63), got {seed!r:.80}")
    return {"seed": seed}


_ARGS = {"command": _command, "move_to": _move_to, "reset_scene": _reset_scene,
         "camera_frames": _camera_frames, "advance": _advance, "start_episode": _start_episode}


# --- results: what the server sends, checked by the client ---------------------------------------
def encode_state(state: RobotState) -> dict:
    return {"joint_pos": np.asarray(state.joint_pos, dtype=np.float64),
            "joint_vel": np.asarray(state.joint_vel, dtype=np.float64),
            "gripper_opening": float(state.gripper_opening), "stamp": float(state.stamp),
            "extras": dict(state.extras)}


def decode_state(result: Any) -> RobotState:
    fields = _names(result, "state")
    joint_pos = _vector(_arg(fields, "joint_pos"), "joint_pos")
    joint_vel = _vector(_arg(fields, "joint_vel"), "joint_vel", len(joint_pos))
    extras = fields.get("extras", {})
    if not isinstance(extras, dict):
        raise ProtocolError(f"state extras must be a map, got {type(extras).__name__}")
    return RobotState(joint_pos=joint_pos, joint_vel=joint_vel,
                      gripper_opening=_number(_arg(fields, "gripper_opening"), "gripper_opening"),
                      stamp=_number(_arg(fields, "stamp"), "stamp"), extras=extras)


def encode_scene(report: SceneReport | None) -> dict | None:
    if report is None:
        return None
    return {"object_pos": {name: np.asarray(p, dtype=np.float64)
                           for name, p in report.object_pos.items()},
            "object_quat": {name: np.asarray(q, dtype=np.float64)
                            for name, q in report.object_quat.items()},
            "grasped": {name: bool(g) for name, g in report.grasped.items()}}


def decode_scene(result: Any) -> SceneReport | None:
    if result is None:
        return None
    fields = _names(result, "scene")
    report = SceneReport()
    for name, pos in _names(fields.get("object_pos", {}), "object_pos").items():
        report.object_pos[name] = _vector(pos, f"object_pos[{name!r}]", 3)
    for name, quat in _names(fields.get("object_quat", {}), "object_quat").items():
        report.object_quat[name] = _vector(quat, f"object_quat[{name!r}]", 4)
    for name, grasped in _names(fields.get("grasped", {}), "grasped").items():
        report.grasped[name] = _flag(grasped, f"grasped[{name!r}]")
    return report


def encode_frames(frames: dict | None) -> dict | None:
    if frames is None:
        return None
    return {name: np.ascontiguousarray(frame) for name, frame in frames.items()}


def decode_frames(result: Any) -> dict[str, np.ndarray] | None:
    if result is None:
        return None
    frames = {}
    for name, frame in _names(result, "camera frames").items():
        if (not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3
                or frame.shape[2] != 3):
            raise ProtocolError(f"camera {name!r}: expected a uint8 [H, W, 3] array, got "
                                f"{_describe(frame)}")
        frames[name] = np.array(frame)  # writable, independent of the frame's buffer
    return frames


def decode_info(result: Any) -> dict:
    fields = _names(result, "info")
    _text(fields.get("driver"), "info.driver")
    ops = fields.get("ops")
    if not isinstance(ops, list) or not all(isinstance(op, str) for op in ops):
        raise ProtocolError(f"info.ops must be a list of op names, got {ops!r:.80}")
    return fields


def _nothing(result: Any) -> None:
    return None


RESULTS = {"read_state": decode_state, "scene": decode_scene, "camera_frames": decode_frames,
           "info": decode_info, "reset_scene": lambda r: _flag(r, "reset_scene result"),
           "advance": lambda r: _flag(r, "advance result")}


def decode_result(op: str, result: Any) -> Any:
    """The Python value of `op`'s result (nil for the ops that return nothing)."""
    return RESULTS.get(op, _nothing)(result)


# --- checks ---------------------------------------------------------------------------------------
def _int_id(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _arg(fields: dict, key: str) -> Any:
    if key not in fields:
        raise ProtocolError(f"missing {key!r}")
    return fields[key]


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ProtocolError(f"{what} must be a string, got {value!r:.80}")
    return value


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        raise ProtocolError(f"{what} must be a number, got {value!r:.80}")
    if isinstance(value, np.complexfloating):
        raise ProtocolError(f"{what} must be a real number, got {value!r:.80}")
    return float(value)


def _duration(value: Any, what: str, most: float = math.inf) -> float:
    seconds = _number(value, what)
    if not (math.isfinite(seconds) and 0 <= seconds <= most):
        raise ProtocolError(f"{what} must be a finite number of seconds in [0, {most:g}], got "
                            f"{seconds}")
    return seconds


def _flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ProtocolError(f"{what} must be a boolean, got {value!r:.80}")
    return bool(value)


def _names(value: Any, what: str) -> dict:
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise ProtocolError(f"{what} must be a map with string keys, got {value!r:.80}")
    return value


def _vector(value: Any, what: str, length: int | None = None) -> np.ndarray:
    """A writable float64 copy of a 1-D numeric array (or list), `length` long if given."""
    if not isinstance(value, np.ndarray | list | tuple):
        raise ProtocolError(f"{what} must be an array, got {_describe(value)}")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ProtocolError(f"{what} is not an array ({exc})") from None
    if array.dtype.kind not in "iuf" or array.ndim != 1:
        raise ProtocolError(f"{what} must be a 1-D numeric array, got {_describe(array)}")
    if length is not None and array.shape != (length,):
        raise ProtocolError(f"{what} must have {length} entries, got {array.shape}")
    return array.astype(np.float64)


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    return f"{type(value).__name__} {value!r:.60}"
