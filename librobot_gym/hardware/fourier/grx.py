"""The GR1's GRX protocol as `fourier-grx-client` 0.1.5 speaks it: the 32-joint order, how its
names map onto ours, the key expressions, the units, and a Zenoh session confined to loopback.

Joint order (`RobotClient.move_joints`' docstring; `ControlGroup` slices): left leg hip roll,
yaw, pitch, knee, ankle pitch, roll (0-5); right leg (6-11); waist yaw, pitch, roll (12-14);
head PITCH, ROLL, YAW (15-17: the reverse of our MJCF's yaw, roll, pitch); left arm shoulder
pitch, roll, yaw, elbow, wrist yaw, roll, pitch (18-24); right arm (25-31). `GRX_JOINTS` maps
each GRX name to our MJCF joint by name (`slots_for`), never by position.

On the wire (namespace `gr` by default, the client's `prefix`): queries `robot/info`
(liveness), `control/enable` ("ON"/"OFF"), `control/gains` ({control_mode, kp, kd}: 32 each,
mode 9 = PD), `control/set_home`, `control/reboot`; the robot publishes `joint/position`
(degrees), `joint/velocity` (deg/s) and `joint/effort` (N m), `imu/*`; the client publishes
joint position targets in degrees on `control/joints/position`. Every value is msgpack with
msgpack-numpy's ndarray encoding (the client patches msgpack).

What the client does not pin (it stores whatever `imu/*`, `joint/*`, `base/*` keys arrive
and reads only joint/position and joint/velocity): the IMU's key names and units, the
effort's key, and any status or error field. We publish `imu/quat` (w, x, y, z),
`imu/angular_velocity` (deg/s, as the joints), `imu/acceleration` (m/s^2) and
`imu/euler_angle` (deg); a GRX server that names them otherwise needs `IMU_KEYS` changed.
"""

from __future__ import annotations

import json

import numpy as np

from librobot_gym.errors import ConfigError

PORT = 7447  # fixed by the client: tcp/{server_ip}:7447
NAMESPACE = "gr"
PD_MODE = 9  # ControlMode.PD, what set_gains sends by default
_SIDE = {"l": "left", "r": "right"}
GRX_ORDER = (
    "l_hip_roll", "l_hip_yaw", "l_hip_pitch", "l_knee_pitch", "l_ankle_pitch", "l_ankle_roll",
    "r_hip_roll", "r_hip_yaw", "r_hip_pitch", "r_knee_pitch", "r_ankle_pitch", "r_ankle_roll",
    "joint_waist_yaw", "joint_waist_pitch", "joint_waist_roll",
    "joint_head_pitch", "joint_head_roll", "joint_head_yaw",
    "l_shoulder_pitch", "l_shoulder_roll", "l_shoulder_yaw", "l_elbow_pitch", "l_wrist_yaw",
    "l_wrist_roll", "l_wrist_pitch",
    "r_shoulder_pitch", "r_shoulder_roll", "r_shoulder_yaw", "r_elbow_pitch", "r_wrist_yaw",
    "r_wrist_roll", "r_wrist_pitch",
)
N_SLOTS = len(GRX_ORDER)
IMU_KEYS = {"quat": "quat", "gyro": "angular_velocity", "acc": "acceleration",
            "euler": "euler_angle"}


def our_name(grx: str) -> str:
    """Our MJCF joint for a GRX joint name: l_hip_roll -> left_hip_roll_joint,
    joint_waist_yaw -> waist_yaw_joint."""
    if grx.startswith("joint_"):
        return grx.removeprefix("joint_") + "_joint"
    side, _, rest = grx.partition("_")
    return f"{_SIDE[side]}_{rest}_joint"


GRX_JOINTS = {grx: our_name(grx) for grx in GRX_ORDER}
SLOT_OF = {ours: slot for slot, ours in enumerate(GRX_JOINTS.values())}


def slots_for(joint_names) -> np.ndarray:
    """The GRX slot (0-31) of each of `joint_names` (the GR1's body joints); joints with no
    GRX slot (grippers a spec appends) are refused here: the caller leaves them out."""
    missing = [n for n in joint_names if n not in SLOT_OF]
    if missing:
        raise ConfigError(f"GRX has no joint slot for {missing}; it drives the GR1's 32 body "
                          f"joints {sorted(SLOT_OF)}")
    return np.array([SLOT_OF[n] for n in joint_names], dtype=np.int64)


def server_config(host: str = "127.0.0.1"):
    """A Zenoh peer LISTENING on tcp/HOST:7447 only, connecting nowhere, multicast and gossip
    scouting off: the emulator's side, on loopback."""
    import zenoh

    conf = zenoh.Config()
    conf.insert_json5("mode", '"peer"')
    conf.insert_json5("listen/endpoints", json.dumps([f"tcp/{host}:{PORT}"]))
    conf.insert_json5("connect/endpoints", "[]")
    conf.insert_json5("scouting/multicast/enabled", "false")
    conf.insert_json5("scouting/gossip/enabled", "false")
    return conf


_MSGPACK_NAMES = ("Packer", "Unpacker", "load", "loads", "dump", "dumps", "pack", "packb",
                  "unpack", "unpackb")


def client_library():
    """`fourier_grx_client`, imported so that it cannot change msgpack for the whole process.

    Its modules call `msgpack_numpy.patch()` at import, which replaces msgpack's functions
    globally: every other msgpack user in the process (the bridge, the policy server, openpi
    frames) would then encode numpy arrays as msgpack-numpy dicts (the full test suite caught
    it: the bridge's peers read `{nd: True, ...}` where arrays belong). Here msgpack is put back
    after the import, and the client's own `Serde` gets msgpack-numpy's hooks explicitly, so
    the GRX wire is what the library writes. Every import of the library goes through this."""
    import sys

    if "fourier_grx_client" in sys.modules and hasattr(sys.modules["fourier_grx_client"],
                                                        "_librobot_isolated"):
        return sys.modules["fourier_grx_client"]
    import functools
    import types

    import msgpack
    import msgpack_numpy

    saved = {name: getattr(msgpack, name) for name in _MSGPACK_NAMES}
    try:
        import fourier_grx_client
        import fourier_grx_client.client
        import fourier_grx_client.exceptions
        import fourier_grx_client.utils
        import fourier_grx_client.zenoh_utils  # noqa: F401 - imported under the guard
    finally:
        for name, value in saved.items():
            setattr(msgpack, name, value)
    fourier_grx_client.utils.msgpack = types.SimpleNamespace(
        packb=functools.partial(msgpack.packb, default=msgpack_numpy.encode),
        unpackb=functools.partial(msgpack.unpackb, object_hook=msgpack_numpy.decode))
    fourier_grx_client._librobot_isolated = True
    return fourier_grx_client


def direct(callback):
    """`callback` as a Zenoh closure called directly on Zenoh's receiving thread. A plain
    callable gets a Python thread and a queue of its own from zenoh-python 0.11, and closing a
    session then joins those threads from inside its own teardown: now and then that join never
    returns (a test run hung in `Session.close`), so every callback here is direct."""
    import zenoh

    return zenoh.Closure(callback)


def loopback_client_class():
    """`RobotClient` whose Zenoh session is a client (it connects to the server and listens on
    nothing): the library's own session is a peer that also listens on tcp/[::]:random, every
    interface; its subscriptions' callbacks are `direct`. Everything else is the library's
    code, unchanged (its __init__ builds the config, then calls the next __init__ in the MRO,
    which is ours)."""
    library = client_library()
    RobotClient, ZenohSession = library.RobotClient, library.zenoh_utils.ZenohSession

    class _ClientMode(ZenohSession):
        def __init__(self, prefix, config=None):
            config.insert_json5("mode", '"client"')
            super().__init__(prefix, config)
            declare = self.session.declare_subscriber
            # the library's sensor callbacks, called directly (`direct`)
            self.session.declare_subscriber = lambda key, handler, *args, **kwargs: declare(
                key, direct(handler) if callable(handler) else handler, *args, **kwargs)

    class LoopbackRobotClient(RobotClient, _ClientMode):
        """The GRX RobotClient, connecting only (grx.py)."""

    return LoopbackRobotClient
