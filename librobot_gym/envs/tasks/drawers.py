"""The drawer tasks' common ground (OpenDrawer, CloseDrawer): a row of two or three small
cabinets facing the robot, the instruction naming whose drawer to move, the judgement of
drawers by their slide joints, and the expert that pulls or pushes the named one.

Episodes: the cabinets stand in the slots of a straight row facing the robot's base, a small
free object (cup, mug or block) may take a slot no cabinet took. The instruction names the target
by colour ("the red cabinet": every cabinet another colour), by place in the row as the front
camera sees it ("the left cabinet", "the cabinet in the middle": two cabinets share the
target's colour), or by relation to the object between two cabinets ("the cabinet left of the
cup": both cabinets one colour). Drawers start shut or open (the task decides), so which drawer
is open or shut is never the answer by itself.
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.tasks.base import EeCommand, TaskReset, WorldState, reach_reward
from librobot_gym.envs.tasks.language import Reference, relational_reference
from librobot_gym.envs.tasks.objects import CABINET_PULL, CABINET_TRAVEL, COLOURS
from librobot_gym.envs.tasks.placement import yaw_quat
from librobot_gym.envs.tasks.skills_drawer import Pull, PullSkill
from librobot_gym.envs.tasks.tabletop import Placed, TabletopTask

CABINETS = ("cabinet_a", "cabinet_b", "cabinet_c")
SPARES = (("cup", "cup"), ("mug", "mug"), ("block", "block"))
POOL = tuple((name, "cabinet") for name in CABINETS) + SPARES
MODES = ("colour", "position", "relation")
CABINET_WIDTH = 0.12  # m at scale 1 (objects.cabinet)
OPEN_FRACTION = 0.6  # open: the drawer out at least this fraction of its travel
CLOSED_FRACTION = 0.1  # shut: within this fraction of its travel of the stop
MOVED_FRACTION = 0.25  # another drawer moved this fraction of its travel: the wrong drawer
SLOT_OBJECT = 0.7  # the chance a slot no cabinet took holds a free object
PLACES = {2: ("left", "right"), 3: ("left", "middle", "right")}
REACH_MARGIN = 0.025  # m at scale 1: how far past the reach patch an outer pull may stand


def joint_key(name: str) -> str:
    """The key of cabinet `name`'s drawer in `WorldState.object_joints`."""
    return f"{name}/drawer"


class DrawerTask(TabletopTask):
    """A row of cabinets, one named. Subclasses set `goal` ("open" or "close"), the
    `instructions`, and `start_openings(rng, target, others)`: each drawer's opening at reset
    as a fraction of its travel."""

    pool = POOL
    goal = "open"

    def __init__(self, robot, reward_type: str = "dense", instruction_set: str = "train"):
        super().__init__(robot, reward_type, instruction_set)
        self.target = CABINETS[0]
        self.mode = "colour"
        self.reference = "cabinet"
        self.start: dict[str, float] = {}  # drawer openings at reset, m
        self.travel = CABINET_TRAVEL * self.scale
        lay, s = self.layout, self.scale
        # Cabinet centres this far from the base: the handle within reach shut and most of
        # the way out, the row as near the base as that allows (the front camera, beyond the
        # table, sees it whole).
        low = lay.reach_x_range[0] + (-CABINET_PULL[0] + 0.8 * CABINET_TRAVEL) * s
        high = lay.reach_x_range[1] - CABINET_PULL[0] * s
        self.radius = (low, low + 0.25 * (high - low))
        self.slot_gap = CABINET_WIDTH * s + lay.clearance / 2  # m between slot centres

    # --- an episode ------------------------------------------------------------------------
    def start_openings(self, rng: np.random.Generator, target: str,
                       others: list[str]) -> dict[str, float]:
        raise NotImplementedError

    def draw(self, rng: np.random.Generator) -> str | None:
        mode = MODES[int(rng.integers(len(MODES)))]
        count = 2 if mode == "relation" else int(rng.integers(2, 4))
        slots = [0, 2] if mode == "relation" else \
            sorted(rng.choice(3, size=count, replace=False).tolist())
        names = [CABINETS[i] for i in rng.permutation(3)[:count]]
        target = names[int(rng.integers(count))]
        colours = self._colours(rng, mode, names, target)
        free = [s for s in range(3) if s not in slots]
        spare = None
        if free and (mode == "relation" or rng.random() < SLOT_OBJECT):
            spare = SPARES[int(rng.integers(len(SPARES)))][0]
            colours[spare] = list(COLOURS)[int(rng.integers(len(COLOURS)))]
        self._line_up(rng, dict(zip(names, slots, strict=True)),
                      {spare: free[0]} if spare else {}, colours)
        if not all(self.reachable(n) for n in names):
            return None
        reference = self._reference(mode, target, names, rng)
        if reference is None:
            return None
        self.target, self.mode, self.reference = target, mode, reference
        fractions = self.start_openings(rng, target, [n for n in names if n != target])
        self.start = {n: f * self.travel for n, f in fractions.items()}
        return self.instructions.say(rng, self.instruction_set, target=reference)

    def _colours(self, rng, mode: str, names: list[str], target: str) -> dict[str, str]:
        """colour: every cabinet its own colour; position and relation: another cabinet (or
        every one) shares the target's."""
        palette = list(COLOURS)
        picks = [palette[i] for i in rng.permutation(len(palette))[:len(names)]]
        if mode != "colour":
            twin = [n for n in names if n != target][int(rng.integers(len(names) - 1))]
            picks[names.index(twin)] = picks[names.index(target)]
        return dict(zip(names, picks, strict=True))

    def _line_up(self, rng, cabinets: dict[str, int], spare: dict[str, int],
                 colours: dict[str, str]) -> None:
        """Stand the cabinets in their slots of a straight row facing the base (turned a
        little, so their drawers slide side by side), and a spare object in its slot; sets
        `self.active`."""
        turn = float(rng.uniform(-0.12, 0.12))
        radius = float(rng.uniform(*self.radius))
        ahead = np.array([math.cos(turn), math.sin(turn)])
        across = np.array([-ahead[1], ahead[0]])
        self.active = {}
        for name, slot in {**cabinets, **spare}.items():
            jitter = float(rng.uniform(-0.01, 0.01)) * self.scale
            x, y = (radius + jitter) * ahead + (slot - 1) * self.slot_gap * across
            yaw = turn if name in cabinets else float(rng.uniform(-math.pi, math.pi))
            self.active[name] = Placed(name, self.kinds[name], colours[name],
                                       np.array([x, y, self.rest_z(name)]), yaw)

    def reachable(self, name: str) -> bool:
        """Cabinet `name`'s pull lies in the arm's reach patch (give or take `REACH_MARGIN`)
        shut and most of the way out (0.8 of its travel)."""
        lay, margin = self.layout, REACH_MARGIN * self.scale
        (x0, x1), (y0, y1) = lay.reach_x_range, lay.reach_y_range
        return all(x0 - margin <= x <= x1 + margin and y0 - margin <= y <= y1 + margin
                   for x, y, _ in (self.pull(name).handle(f * self.travel) for f in (0, 0.8)))

    def _reference(self, mode: str, target: str, names: list[str], rng) -> str | None:
        """The words for the target cabinet (None: this draw cannot say it unambiguously)."""
        things = self.things()
        me = next(t for t in things if t.name == target)
        if mode == "colour":
            ref = Reference("cabinet", me.colour)
            return ref.text() if ref.picks_out(target, things) else None
        if mode == "relation":
            ref = relational_reference(me, things, self.layout.clearance)
            return ref.text() if ref is not None else None
        row = sorted((t for t in things if t.name in names), key=lambda t: t.side)
        place = PLACES[len(row)][[t.name for t in row].index(target)]
        if place == "middle":
            return "cabinet in the middle" if rng.random() < 0.5 else "middle cabinet"
        return f"cabinet on the {place}" if rng.random() < 0.5 else f"{place} cabinet"

    def _task_reset(self, instruction: str) -> TaskReset:
        reset = super()._task_reset(instruction)
        reset.joints = {joint_key(n): q for n, q in self.start.items()}
        return reset

    def pull(self, name: str | None = None) -> Pull:
        """The named cabinet's (default: the target's) drawer, as the expert sees it."""
        placed = self.active[name or self.target]
        return Pull(placed.pos, placed.yaw, self.scale, joint_key(placed.name))

    # --- judging the world -----------------------------------------------------------------
    def opening(self, state: WorldState, name: str) -> float:
        """How far (m) cabinet `name`'s drawer is out; where the world reports no drawers (a
        robot cell's stand-in), where it stood at reset."""
        return float(state.object_joints.get(joint_key(name), self.start.get(name, 0.0)))

    def achieved(self, opening: float) -> bool:
        if self.goal == "open":
            return opening >= OPEN_FRACTION * self.travel
        return opening <= CLOSED_FRACTION * self.travel

    def progress(self, opening: float) -> float:
        """0 at the target's start, 1 at the success threshold."""
        start = self.start.get(self.target, 0.0)
        end = (OPEN_FRACTION if self.goal == "open" else CLOSED_FRACTION) * self.travel
        return float(np.clip((opening - start) / (end - start), 0.0, 1.0)) \
            if end != start else 1.0

    def wrong_drawers(self, state: WorldState) -> list[str]:
        """The other cabinets whose drawers moved `MOVED_FRACTION` of their travel."""
        return [n for n in self.start if n != self.target
                and abs(self.opening(state, n) - self.start[n]) > MOVED_FRACTION * self.travel]

    def _measure(self, state: WorldState) -> dict:
        opening = self.opening(state, self.target)
        handle = self.pull().handle(opening) if self.target in self.active else state.ee_pos
        distance = float(np.linalg.norm(state.ee_pos - handle))
        gripping = distance < BAR_GRIP * self.scale and \
            state.gripper_opening < 0.5 * self.robot.gripper.max_opening
        wrong = self.wrong_drawers(state) + self.wrong_objects(state, set())
        others = [abs(self.opening(state, n) - self.start[n]) / self.travel
                  for n in self.start if n != self.target]
        return dict(opening=opening, distance=distance, gripping=gripping, wrong=wrong,
                    others=max(others, default=0.0))

    def evaluate(self, state: WorldState) -> tuple[bool, bool, float, dict[str, float]]:
        m = self._measure(state)
        success = self.achieved(m["opening"]) and not m["wrong"]
        metrics = {"drawer_opening": m["opening"] / self.travel,
                   "progress": self.progress(m["opening"]), "tcp_to_handle": m["distance"],
                   "gripping": float(m["gripping"]), "wrong_object": float(bool(m["wrong"])),
                   "other_drawers_moved": m["others"]}
        return success, bool(m["wrong"]), self._reward(m, success), metrics

    def success(self, state: WorldState) -> bool:
        return self.evaluate(state)[0]

    def failure(self, state: WorldState) -> bool:
        return bool(self._measure(state)["wrong"])

    def reward(self, state: WorldState, success: bool) -> float:
        return self._reward(self._measure(state), success)

    def _reward(self, m: dict, success: bool) -> float:
        if success:
            return 1.0
        if self.reward_type == "sparse" or m["wrong"]:
            return 0.0
        reach = reach_reward(m["distance"], self.reach_scale)
        return 0.25 * reach + 0.2 * float(m["gripping"]) + 0.5 * self.progress(m["opening"])

    def metrics(self, state: WorldState) -> dict[str, float]:
        return self.evaluate(state)[3]

    def object_observation(self, state: WorldState) -> dict[str, np.ndarray]:
        """The target's pull bar (its middle, world), the cabinet's turn, the bar to the tool,
        and how far its drawer is out (fraction of its travel); zeros before a first reset."""
        if self.target not in self.active:
            zero = np.zeros(3)
            return {"target_pos": zero, "target_quat": np.array([1.0, 0.0, 0.0, 0.0]),
                    "target_to_tcp": state.ee_pos - zero, "drawer_opening": np.zeros(1)}
        opening = self.opening(state, self.target)
        handle = self.pull().handle(opening)
        return {"target_pos": handle, "target_quat": yaw_quat(self.active[self.target].yaw),
                "target_to_tcp": state.ee_pos - handle,
                "drawer_opening": np.array([opening / self.travel])}

    def make_expert(self) -> DrawerExpert:
        return DrawerExpert(self)


BAR_GRIP = 0.02  # m at scale 1: the tool this near the bar with the fingers closed grips it


class DrawerExpert:
    """Pulls the named drawer open, or pushes it shut, holding its handle (`PullSkill`),
    knowing which cabinet from privileged state: the upper reference for language-conditioned
    policies."""

    def __init__(self, task: DrawerTask):
        self.task = task
        self.skill: PullSkill | None = None

    def reset(self) -> None:
        self.skill = None

    def act(self, state: WorldState) -> EeCommand:
        task = self.task
        if self.skill is None or self.skill.pull.joint != joint_key(task.target):
            goal = task.travel if task.goal == "open" else -0.05 * task.travel
            self.skill = PullSkill(task.layout, task.pull(), goal)
        return self.skill.act(state)


__all__ = ["CABINETS", "DrawerExpert", "DrawerTask", "MODES", "POOL", "joint_key"]
