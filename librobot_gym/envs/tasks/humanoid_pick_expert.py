"""TabletopPick's expert: from privileged state (the named object's position, the hands'
grip points), a gripper script through the humanoid `ee_delta_pose` mode, whose inverse
kinematics moves the arms while the balance law holds the legs.

The hand on the object's side (left for an object left of the pelvis's centre line) rises
clear of the table's edge, goes over the object with its jaws open, settles there, comes
down (slowly, hovering whenever it drifts off the object's axis, unless the robot's layout
says `careful_descent: False`) until the grip point is at
the kind's grasp height, closes the jaws on a ramp, waits for them to bite and lifts; the
other hand stays where it is. The expert keeps the point it has commanded and steps it
towards the goal (capped at the mode's 0.02 m), in the pelvis's heading frame (the balance
law keeps the pelvis level to a few degrees); a slow integral of the measured grip point's
error shifts that goal so the sagging servos still bring the grip point itself there. The
hand keeps its starting orientation (the H1's 4-DoF arm could not turn it; blocks stand
within 20 deg of square to the robot, so the level pinch closes across two faces), except
where the robot's layout gives a `jaw_lean` (the GR1's): a fed-forward pitch then brings
the jaws that close to upright."""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.tasks.base import WorldState
from librobot_gym.robots.humanoids.common import EE_MAX_STEP, EE_MAX_TURN, SIDES, hands_for

GAIN = 0.3  # of the commanded point's distance to its goal asked per step
BIAS_GAIN = 0.03  # of the grip point's error added to the commanded point's offset per step
MAX_BIAS = 0.12  # m
ABOVE = 0.12  # m above the grasp point the hand comes to first
AT_ABOVE = 0.025  # m: close enough above it (height) to come down
AT_OVER = 0.008  # m: the grip point this close over the object (horizontally) to come down
SETTLE_STEPS = 4  # steps in a row over the object before coming down
OVER_GROWTH = 0.0003  # m per step in `above`: how fast AT_OVER widens
AT_GRASP = 0.012  # m: close enough to the grasp point to close
DESCEND_STEPS = 90  # steps (1.8 s) at most coming down before it closes anyway
QUICK_DESCEND_STEPS = 60  # the same without the careful descent (1.2 s)
DESCENT = 0.005  # m a step at most coming down (0.25 m/s)
OFF_CENTRE = 0.012  # m: the grip point this far off the object's axis stops coming down
CLOSE_STEPS = 25  # steps (0.5 s) for the jaws to close and bite before lifting
CLOSE_RAMP = 12  # steps over which the opening target goes to 0
LIFT = 0.18  # m the hand rises above the grasp point
TURN_GAIN = 0.1  # of the remaining turn asked per step


class TabletopPickExpert:
    """The gripper script (see the module docstring); `act(state)` is one `ee_delta_pose`
    action, normalised."""

    def __init__(self, task):
        self.task = task
        robot = task.robot
        self.spec = robot.control_mode("ee_delta_pose")
        self.hands = hands_for(robot)
        self.open = float(task.layout["open"])
        # where the robot's layout asks (the GR1's: its tilted palm tipped cups), the jaws
        # are brought to lean this far (rad) from straight down before they come down
        self.pitch_goal = task.layout.get("jaw_lean")
        # a careful descent (slow, hovering off the object's axis) where the layout asks:
        # the H1's and GR1's hands swing on their soft servos; the Figure-class's knocked
        # more objects coming down slowly than fast
        self.careful = bool(task.layout.get("careful_descent", True))
        self.reset()

    def reset(self) -> None:
        self.phase, self.timer, self.side = "raise", 0, None
        self.command = self.bias = self.pitch_left = None
        self.settled = 0

    def _pitch(self, state: WorldState, c: float, s: float) -> float:
        """This step's turn of the hand about the pelvis's y axis (rad), fed forward (the
        wrists' servos lag: feeding back their measured pose would wind the goal up): the
        jaws, leaning forward as the hand starts, brought to lean `jaw_lean` rad."""
        if self.pitch_left is None:
            name = SIDES[self.side]
            jaws = -np.array([state.extras[f"{name}_grip_r{i}"] for i in (2, 5, 8)])
            ahead = c * jaws[0] + s * jaws[1]
            self.pitch_left = math.atan2(ahead, -jaws[2]) - float(self.pitch_goal)
        turn = float(np.clip(TURN_GAIN * self.pitch_left, -EE_MAX_TURN, EE_MAX_TURN))
        self.pitch_left -= turn
        return turn

    def _grip(self, state: WorldState, side: int) -> np.ndarray:
        name = SIDES[side]
        return np.array([state.extras[f"{name}_grip_{a}"] for a in "xyz"])

    def act(self, state: WorldState) -> np.ndarray:
        task, ep = self.task, self.task.episode
        extras = state.extras
        yaw = extras["base_yaw"]
        c, s = math.cos(yaw), math.sin(yaw)
        target = state.object_pos[ep.target]
        if self.side is None:  # the hand on the object's side of the centre line
            local_y = -s * (target[0] - extras["base_x"]) + c * (target[1] - extras["base_y"])
            self.side = 0 if local_y > 0 else 1
        grasp = np.array([target[0], target[1], task.grasp_height(ep.target)])
        grip = self._grip(state, self.side)
        opening = self.open
        self.timer += 1
        if self.phase == "raise":  # straight up first: the hands start below the table top
            goal = np.array([grip[0], grip[1], grasp[2] + ABOVE])
            if goal[2] - grip[2] < AT_ABOVE:
                self.phase, self.timer = "above", 0
        if self.phase == "above":  # over the object, the jaws centred on it before going down
            goal = grasp + (0.0, 0.0, ABOVE)
            over = AT_OVER + OVER_GROWTH * self.timer  # a hand that cannot settle goes anyway
            if np.linalg.norm(goal[:2] - grip[:2]) < over and abs(goal[2] - grip[2]) < AT_ABOVE:
                self.settled += 1
            else:
                self.settled = 0
            if self.settled >= SETTLE_STEPS:
                self.phase, self.timer = "descend", 0
        if self.phase == "descend":  # down, slowly, only while the jaws stay centred on it
            goal = grasp.copy()
            if self.careful and np.linalg.norm(goal[:2] - grip[:2]) > OFF_CENTRE:
                goal[2] = max(grip[2], grasp[2])  # hover until it is centred again
            limit = DESCEND_STEPS if self.careful else QUICK_DESCEND_STEPS
            if np.linalg.norm(goal - grip) < AT_GRASP or self.timer > limit:
                self.phase, self.timer = "close", 0
        if self.phase == "close":  # squeezed shut over CLOSE_RAMP steps: a slammed jaw flicks
            goal = grasp           # a light object out between the jaws
            opening = max(0.0, self.open * (1.0 - self.timer / CLOSE_RAMP))
            if self.timer > CLOSE_STEPS:
                self.phase, self.timer = "lift", 0
                self.lift_from = grip.copy()
        if self.phase == "lift":
            goal, opening = self.lift_from + (0.0, 0.0, LIFT), 0.0
        if self.command is None:
            self.command, self.bias = grip.copy(), np.zeros(3)
        # The servos sag under the arm's weight: a slow integral of the measured error moves
        # the commanded point so that the grip point itself reaches the goal.
        self.bias = np.clip(self.bias + BIAS_GAIN * (goal - grip), -MAX_BIAS, MAX_BIAS)
        step = np.clip(GAIN * (goal + self.bias - self.command), -EE_MAX_STEP, EE_MAX_STEP)
        if self.phase == "descend" and self.careful:
            step[2] = max(step[2], -DESCENT)
        self.command += step
        local = np.array([c * step[0] + s * step[1], -s * step[0] + c * step[1], step[2]])
        action = np.zeros(14)
        action[6] = action[13] = self.open
        base = 7 * self.side
        action[base: base + 3] = local
        if self.pitch_goal is not None:
            action[base + 4] = self._pitch(state, c, s)
        action[base + 6] = opening
        return np.clip(self.spec.to_normalised(action), -1.0, 1.0).astype(np.float32)
