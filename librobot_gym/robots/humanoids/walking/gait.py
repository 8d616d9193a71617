"""The walking law: capture-point (DCM) footstep placement on the linear inverted pendulum,
swing-foot trajectories, leg inverse kinematics, joint PD targets. Pure numpy.

Model. The centre of mass (CoM) at height h over the stance pivot p moves as x'' = w^2 (x - p),
w = sqrt(g / h); its divergent component (the capture point, DCM) xi = x + x'/w runs away from
p as xi(t) = p + (xi0 - p) e^{w t}. Steady walking at velocity v with step time T and feet
alternating +-d/2 about the path has, at each touchdown, the DCM at b = v T / (E - 1) -+
d / (E + 1) (E = e^{w T}; minus on a left stance: inwards) from the new pivot. The law closes
the loop on that: every control step it measures xi, predicts where it will be at the end of
this step, xi_end = p + (xi - p) e^{w (T - t)}, and aims the swing foot at xi_end - b (clipped
to the leg's reach and the feet's spacing). Errors in the CoM's motion (a push, a misplaced
step, a new command) are corrected by where the next foot lands: what a robot with small
feet and weak ankles (the H1's 40 N m) must do. The pivot is under the ankle, where a
passive ankle puts the centre of pressure.

Gait. Single-support phases of `step_time` s alternate with no double support (the swing
foot lands when it touches the ground after LIFT_PHASE of its swing, or at the phase's end).
Its height comes down at LAND_PHASE of the swing, aimed LAND_DEPTH below the ground, so the
touchdown, not the clock, ends the step (at 0.74-0.82 of the phase, measured on every
robot); the capture-point prediction takes the step to end there (STEP_END of `step_time`).
A lift that reached the ground only at the phase's end left the lagging sole up to 5 cm in
the air when the stance switched, and the Figure-class humanoid fell in every episode.
A standing start is, for the pendulum, the middle of a step in place (the capture point
between the feet), so the first step starts part-way through its phase. A zero command
steps in place (the law never stops stepping). Commands are rate limited (ACCEL m/s^2,
YAW_ACCEL rad/s^2) so a jump in the command is a ramp in the gait. The forward speed is fed
back: the measured one's shortfall, integrated (bounded, vanishing with the command), is
added to the speed the steps are placed for (`_track_speed`).

Legs. The swing sole follows a smoothstep from where it lifted to its target, its height a
half sine of `swing_height`; its joint targets come from inverse kinematics
(`kinematics.py`) relative to the pelvis as it is, so the foot lands where it was aimed
whatever the trunk does. The stance leg's come from the pelvis as it should be: upright
(its measured pitch, roll and yaw error fed back K_TRUNK, K_YAW times over, so the stance
hip servos hold the trunk up and turn it against the swing leg's reaction), at the walking
height, where it is horizontally (the pendulum is not fought); its ankle pitch is left
where it is (passive) plus an ankle strategy, K_ANKLE rad of toes-down per m of capture
point ahead of its nominal path; and its targets are offset by the torques that carry the
pendulum's force m (g + w^2 (CoM - pivot)) through the ankle, over the servos' stiffness
(`LegChain.support_torques`), so the leg neither sags nor lets the trunk drop sideways.
`velocities` hands on the targets' rates, for servos with a velocity reference (the
MuJoCo mode turns them into a target lead, with the layout's walking damping `leg_kd`).
The law runs once per control step (50 Hz); the servos hold its targets over the physics
substeps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from librobot_gym.robots.humanoids.walking.kinematics import (
    ChainStack,
    LegChain,
    axis_rotation,
    yaw_rotation,
)
from librobot_gym.robots.humanoids.walking.layout import ACCEL, YAW_ACCEL, WalkLayout

G = 9.81
HEIGHT_RATE = 0.2  # m/s: the pelvis's height ramps to the layout's at this rate
LIFT_PHASE = 0.5  # the swing foot may land after this fraction of its phase
LAND_PHASE = 0.75  # the swing sole's height reaches the ground at this fraction of its swing
LAND_DEPTH = 0.01  # m: ... and is aimed this far below it by then (so that it does land)
STEP_END = 0.8  # the pendulum's step ends (touchdown) at this fraction of `step_time`
TOUCHDOWN = 0.01  # m: a swing sole this close to the ground has landed
FREEZE_PHASE = 0.8  # the step target is frozen after this fraction of the phase
HEADING_SLACK = 0.3  # rad: the reference heading's lead over the measured one, at most
K_ANKLE = 6.0  # rad of stance ankle pitch per m of capture-point error ahead (toes down)
MAX_ANKLE = 0.25  # rad
MAX_RATE = 6.0  # rad/s, the targets' rates handed on
HURRY_DISTANCE = 1e9  # m beyond reach at which a step runs at twice its pace
K_TRUNK = 1.0
K_YAW = 1.0
SOLE_AHEAD = 0.0  # the stance hip's extra correction of the trunk's pitch and roll, per rad
K_SPEED = 1.5  # 1/s: the forward speed's error (m/s) integrated into the step's speed
SPEED_BIAS = 0.4  # the integral's bound, as a fraction of the commanded forward speed


@dataclass
class WalkState:
    """What the law reads each control step (world frame, m, m/s): the pelvis's position
    and rotation matrix, the CoM's position and velocity, the soles' positions (left,
    right) and their yaw (rad), the legs' joint angles (rad, hip to ankle)."""

    pelvis_pos: np.ndarray
    pelvis_rot: np.ndarray
    com: np.ndarray
    com_vel: np.ndarray
    soles: np.ndarray
    sole_yaw: np.ndarray
    legs_q: tuple[np.ndarray, np.ndarray]


def clamp(x: float, low: float, high: float) -> float:
    """`np.clip` for one number, without its cost (the law clamps a dozen a control step)."""
    return min(max(x, low), high)


def smoothstep(s: float) -> float:
    s = min(max(s, 0.0), 1.0)
    return s * s * (3.0 - 2.0 * s)


def wrap(angle: float) -> float:
    return (angle + math.pi) % (2 * math.pi) - math.pi


class WalkingController:
    """`targets(state, command, dt)`: the two legs' joint targets (rad) for this control
    step, walking at `command` = (vx m/s, vy m/s, yaw rate rad/s) in the heading frame.
    `reset(state)` starts from standing."""

    def __init__(self, layout: WalkLayout, legs: tuple[LegChain, LegChain],
                 home_legs: tuple[np.ndarray, np.ndarray], mass: float):
        self.layout, self.legs, self.mass = layout, legs, mass
        self.home = [np.asarray(h, float).copy() for h in home_legs]
        self.command = np.zeros(3)
        self.q = np.array(self.home)  # (2, n): the legs' last IK answers
        self._stack = ChainStack(legs)
        self.steps = 0
        self.hurry = 0.0
        self.speed_bias = 0.0
        self._previous = None
        self.velocities = tuple(np.zeros_like(h) for h in self.home)

    # --- state machine ---------------------------------------------------------------------------
    def reset(self, state: WalkState) -> None:
        self.q = np.array(self.home)
        self._previous = None
        self.command = np.zeros(3)
        self.speed_bias = 0.0
        self.ground = float(min(state.soles[:, 2]))
        self.heading = float(math.atan2(state.pelvis_rot[1, 0], state.pelvis_rot[0, 0]))
        self.feet = [np.array([*state.soles[i, :2], state.sole_yaw[i]]) for i in (0, 1)]
        self.height = float(state.pelvis_pos[2]) - self.ground  # ramps to pelvis_height
        self.steps = 0
        # The first stance: the left sole; the right one "steps" first, starting part-way
        # through its phase: standing with the CoM between the feet is, for the pendulum,
        # the middle of a step in place (see `_start_phase`).
        self.stance = 1
        self._touchdown(state)
        self.t0 = self.t = self._start_phase(state) * self.layout.step_time
        self.steps = 0

    def _start_phase(self, state: WalkState) -> float:
        """The phase at which a step in place has the capture point where it is now: its
        lateral offset e from the stance sole grows as b e^{w t} from b = d / (E + 1)."""
        w, E = self._omega(state)
        b = self.layout.step_width / (E + 1.0)
        p = self.feet[self.stance][:2]
        xi = state.com[:2] + state.com_vel[:2] / w
        yaw = self.feet[self.stance][2]
        e = abs(-math.sin(yaw) * (xi[0] - p[0]) + math.cos(yaw) * (xi[1] - p[1]))
        return min(max(math.log(max(e / b, 1.0)) / (w * self.layout.step_time), 0.0), 0.7)

    def _touchdown(self, state: WalkState) -> None:
        swing = 1 - self.stance
        self.feet[swing] = np.array([*state.soles[swing, :2], state.sole_yaw[swing]])
        self.stance = swing
        other = 1 - swing
        self.swing_start = np.array([*state.soles[other], state.sole_yaw[other]])
        self.target = self.feet[other].copy()
        self.t = self.t0 = 0.0
        self.hurry = 0.0
        self.steps += 1

    def _ramp(self, command: np.ndarray, dt: float) -> None:
        lay = self.layout
        cmd = np.array([clamp(command[0], *lay.vx_range),
                        clamp(command[1], -lay.vy_max, lay.vy_max),
                        clamp(command[2], -lay.yaw_rate_max, lay.yaw_rate_max)])
        limit = np.array([ACCEL, ACCEL, YAW_ACCEL]) * dt
        self.command += np.minimum(np.maximum(cmd - self.command, -limit), limit)

    # --- the law ---------------------------------------------------------------------------------
    def targets(self, state: WalkState, command, dt: float) -> tuple[np.ndarray, np.ndarray]:
        lay = self.layout
        self._dt = dt
        self._ramp(np.asarray(command, float), dt)
        measured_yaw = math.atan2(state.pelvis_rot[1, 0], state.pelvis_rot[0, 0])
        self.heading += self.command[2] * dt
        self._track_speed(state, measured_yaw, dt)
        lead = wrap(self.heading - measured_yaw)
        if abs(lead) > HEADING_SLACK:
            self.heading = measured_yaw + math.copysign(HEADING_SLACK, lead)
        self.t += dt * (1.0 + self.hurry)
        swing = 1 - self.stance
        phase = self.t / lay.step_time
        rel = (self.t - self.t0) / (lay.step_time - self.t0)
        if phase >= 1.0 or (rel > LIFT_PHASE
                            and state.soles[swing, 2] < self.ground + TOUCHDOWN):
            self._touchdown(state)
            swing, phase = 1 - self.stance, 0.0
        if phase <= FREEZE_PHASE:
            self.target = self._step_target(state, phase)
        q = self._legs(state, swing, phase)
        # The targets' rates (rad/s), for servos that take a velocity reference: damping
        # then brakes the legs' error, not their motion.
        prev = self._previous if self.t > 0.0 else None  # a touchdown swaps the legs' roles
        self.velocities = tuple(np.zeros_like(qi) if prev is None else
                                np.minimum(np.maximum((qi - pi) / dt, -MAX_RATE), MAX_RATE)
                                for qi, pi in zip(q, prev or q, strict=True))
        self._previous = (q[0].copy(), q[1].copy())
        return q

    def _track_speed(self, state: WalkState, yaw: float, dt: float) -> None:
        """Forward speed feedback: the CoM's forward velocity in the heading frame falls
        short of the command (without this the H1 and the GR1 walked at 75-80% of it: what
        the pendulum model leaves out), so its error is integrated, K_SPEED per s, into a
        bias on the speed the steps are placed for. Bounded to SPEED_BIAS of
        the command, it vanishes with it (a stop resets it; no windup)."""
        forward = math.cos(yaw) * state.com_vel[0] + math.sin(yaw) * state.com_vel[1]
        bound = SPEED_BIAS * abs(self.command[0])
        self.speed_bias = clamp(self.speed_bias + K_SPEED * dt * (self.command[0] - forward),
                                -bound, bound)

    def _omega(self, state: WalkState) -> tuple[float, float]:
        h = max(float(state.com[2]) - self.ground, 0.4)
        w = math.sqrt(G / h)
        return w, math.exp(w * self.layout.step_time)

    def _step_end(self, state: WalkState) -> tuple[float, float]:
        """The step's duration as the pendulum sees it (s: single support ends at the
        touchdown, STEP_END of `step_time`, see `_legs`) and E = e^{w T} over it."""
        T = STEP_END * self.layout.step_time
        w, _ = self._omega(state)
        return T, math.exp(w * T)

    def _step_target(self, state: WalkState, phase: float) -> np.ndarray:
        """Where the swing sole lands: (x, y, yaw), world."""
        lay = self.layout
        T, E = self._step_end(state)
        w, _ = self._omega(state)
        p = self._pivot(self.stance)
        xi = state.com[:2] + state.com_vel[:2] / w
        xi_end = p + (xi - p) * math.exp(w * max(T - phase * lay.step_time, 0.0))
        swing = 1 - self.stance
        side = 1.0 if swing == 0 else -1.0  # the swing foot lands left (+) or right (-)
        yaw_land = self.heading + self.command[2] * T * (1.5 - phase)
        stance_yaw = self.feet[self.stance][2]
        yaw_land = stance_yaw + clamp(wrap(yaw_land - stance_yaw),
                                      -lay.max_foot_yaw, lay.max_foot_yaw)
        vx, vy = self.command[0] + self.speed_bias, self.command[1]
        b_local = np.array([vx * T / (E - 1.0),
                            vy * T / (E - 1.0) - side * lay.step_width / (E + 1.0)])
        mid_yaw = 0.5 * (yaw_land + stance_yaw)
        c, s = math.cos(mid_yaw), math.sin(mid_yaw)
        b = np.array([c * b_local[0] - s * b_local[1], s * b_local[0] + c * b_local[1]])
        target = xi_end - b
        # Reach: relative to the stance sole, in the step's mid heading.
        d = target - p
        dx, dy = c * d[0] + s * d[1], -s * d[0] + c * d[1]
        fwd, back, lat = lay.max_step
        want = (dx, dy)
        dx = clamp(dx, -back, fwd)
        if side > 0:
            dy = clamp(dy, lay.min_width, lay.step_width + lat)
        else:
            dy = clamp(dy, -lay.step_width - lat, -lay.min_width)
        # Out of reach: hurry the step (the capture point has less time to run away).
        self.hurry = min(math.hypot(want[0] - dx, want[1] - dy) / HURRY_DISTANCE, 1.0)
        # The target is the new pivot's; the sole's reference sits ahead of it.
        ahead = self.legs[swing].sole[0] * SOLE_AHEAD
        return np.array([p[0] + c * dx - s * dy + ahead * math.cos(yaw_land),
                         p[1] + s * dx + c * dy + ahead * math.sin(yaw_land), yaw_land])

    def _pivot(self, leg: int) -> np.ndarray:
        """The stance leg's pendulum pivot (world x, y): under the ankle, where a passive
        ankle puts the centre of pressure."""
        x, y, yaw = self.feet[leg]
        back = self.legs[leg].sole[0]
        return np.array([x - back * math.cos(yaw), y - back * math.sin(yaw)])

    def _nominal_b(self, state: WalkState) -> np.ndarray:
        """This step's nominal capture-point offset at touchdown (world x, y)."""
        lay = self.layout
        T = lay.step_time
        w, E = self._omega(state)
        side = 1.0 if self.stance == 0 else -1.0
        b = np.array([(self.command[0] + self.speed_bias) * T / (E - 1.0),
                      self.command[1] * T / (E - 1.0) - side * lay.step_width / (E + 1.0)])
        yaw = self.feet[self.stance][2]
        c, s = math.cos(yaw), math.sin(yaw)
        return np.array([c * b[0] - s * b[1], s * b[0] + c * b[1]])

    def _legs(self, state: WalkState, swing: int, phase: float):
        lay = self.layout
        stance = self.stance
        # The stance leg: the pelvis upright at its height, turned to the heading, where it is.
        self.height += clamp(lay.pelvis_height - self.height, -HEIGHT_RATE * self._dt,
                             HEIGHT_RATE * self._dt)
        pelvis = np.array([*state.pelvis_pos[:2], self.ground + self.height])
        # The trunk's tilt is fed back beyond the servos' own stiffness: the pelvis is asked
        # to lean K_TRUNK times its tilt the other way (a swing leg's reaction pitches it).
        R = state.pelvis_rot
        heading = yaw_rotation(-self.heading)
        local = heading @ R
        pitch = math.atan2(local[0, 2], local[2, 2])
        roll = math.atan2(-local[1, 2], local[2, 2])
        lean = lay.lean * self.command[0] - K_TRUNK * pitch
        tilt = -K_TRUNK * roll
        yaw = self.heading + K_YAW * wrap(self.heading - math.atan2(R[1, 0], R[0, 0]))
        rot = yaw_rotation(yaw) @ axis_rotation(np.array([0.0, 1.0, 0.0]), lean) \
            @ axis_rotation(np.array([1.0, 0.0, 0.0]), tilt)
        foot = self.feet[stance]
        # The swing leg: toward the target, in the pelvis frame as it is.
        p0 = self.t0 / lay.step_time
        rel = (phase - p0) / (1.0 - p0)
        blend = smoothstep(rel / FREEZE_PHASE)
        start, target = self.swing_start, self.target
        xy = start[:2] + blend * (target[:2] - start[:2])
        swing_yaw = start[3] + blend * wrap(target[2] - start[3])
        # Its height: a half sine over the first LAND_PHASE of the swing, then LAND_DEPTH
        # below the ground (the servos lag the trajectory: one that reached the ground only
        # at the phase's end left the sole 2-5 cm up when the phase ran out on the
        # Figure-class, and the step "landed" in the air).
        z = self.ground + lay.swing_height * math.sin(math.pi * min(rel / LAND_PHASE, 1.0)) \
            + (1.0 - blend) * max(start[2] - self.ground, 0.0) \
            - LAND_DEPTH * smoothstep((rel - LIFT_PHASE) / (LAND_PHASE - LIFT_PHASE))
        # Both legs' inverse kinematics in one stacked solve (`ChainStack`).
        poses = {stance: (pelvis, rot, np.array([*foot[:2], self.ground]), foot[2]),
                 swing: (state.pelvis_pos, state.pelvis_rot, np.array([*xy, z]), swing_yaw)}
        self._ik(poses[0], poses[1])
        q_stance, q_swing = self.q[stance], self.q[swing]
        # The stance ankle: passive (where it is: the sole flat on the ground) plus the ankle
        # strategy, pitching the toes down when the capture point runs ahead of its nominal.
        w, _ = self._omega(state)
        p = self._pivot(stance)
        xi = state.com[:2] + state.com_vel[:2] / w
        xi_nominal = p + self._nominal_b(state) * math.exp(w * self.t)
        err = xi - xi_nominal
        c, s_ = math.cos(foot[2]), math.sin(foot[2])
        ex = c * err[0] + s_ * err[1]
        n_ankle = lay.ankles
        q_stance = q_stance.copy()
        q_stance[-n_ankle] = state.legs_q[stance][-n_ankle]
        q_stance[-n_ankle] += clamp(K_ANKLE * ex, -MAX_ANKLE, MAX_ANKLE)
        # Support: the stance leg carries the pendulum's force through its ankle, m (g up
        # plus w^2 (CoM - pivot) sideways: along the line from the pivot to the CoM); the
        # servos' targets are offset by the torques that takes over their stiffness, so the
        # leg does not sag under it (the hip roll holds the trunk level over a narrow sole).
        chain = self.legs[stance]
        reach = (state.com[:2] - p) * w * w
        weight = rot.T @ (-self.mass * np.array([reach[0], reach[1], G]))
        tau = chain.support_torques(self.q[stance], weight, len(q_stance) - n_ankle)
        q_stance += tau / chain.kp
        return (q_stance, q_swing) if stance == 0 else (q_swing, q_stance)

    def _ik(self, *poses) -> None:
        """Both legs' joint angles (into `self.q`, warm-started from it) for the sole poses
        (pelvis position, pelvis rotation, sole position, sole yaw; world), left then right."""
        local, rot = np.empty((2, 3)), np.empty((2, 3, 3))
        for i, (pelvis_pos, pelvis_rot, sole_pos, sole_yaw) in enumerate(poses):
            local[i] = pelvis_rot.T @ (sole_pos - pelvis_pos)
            rot[i] = pelvis_rot.T @ yaw_rotation(sole_yaw)
        self.q = self._stack.solve(self.q, local, rot)
