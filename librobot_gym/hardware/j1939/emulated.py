"""`EmulatedMachineDriver`: the J1939 driver on its own ECU emulator, in real time or in lockstep.

`j1939:emulator` runs the emulator's thread and the driver's threads on the wall clock, as a
machine and its controller would (fault-injection tests, rehearsing a site). The operator sets
the site up and labels episodes, as on a real machine.

`j1939:emulator:lockstep` runs the same `J1939Driver` code on the same frames with no thread of
its own: time is the emulator's simulated clock (`now()`), and it passes only in `advance(dt)`,
one control period per env step (`lockstep_advance`), in 10 ms ticks. Per tick:

1. the driver sends VALVE_COMMAND when its 20 ms schedule says so (`_send_valves`, the frame
   the sender thread sends in real time);
2. the emulator takes the frames on its bus, steps its hydraulic model and publishes that
   tick's frames (`ExcavatorEcuEmulator.advance`);
3. the driver waits until it has received as many frames as the emulator sent in that tick
   (python-can's `virtual` bus delivers on `send`, so no wall-clock wait happens in practice)
   and hands each to `_on_frame`, as python-can's notifier thread does in real time.

`connect()` ends on a frame tick, so with a period of whole 20 ms each step starts with a valve
frame and ends with readings of that very tick (stamp == `now()`). Each episode
(`start_episode`) restarts the machine, the link's readings and the clock at 0, so the same
seed and actions replay the same episode in one process.

Every stamp and timeout (the heartbeat, the emulator's command timeout) is on the simulated
clock, so none fires because a computer was slow, and two runs with the same seed and actions
read the same numbers. The address claim still takes can-j1939's 0.75 s of wall-clock timers,
once per `connect()` (not per step). A DM1 with more than one trouble code travels by BAM, whose
packets can-j1939 times on the wall clock: those arrive at the next steps, not deterministically.

Scene: the emulator simulates the machine's ECUs and hydraulics only, no soil and no truck
(`stand_in`), so by default the site is bare: the operator sets it up and labels each episode,
as on a real machine, and the env refuses state observations and the scripted expert. With
`static_site` (`?scene=static` in the spec) the site "places" the truck where the reset asks and
reports it there with the material untouched (nothing delivered or spilled, the piles as
surveyed): a placeholder for interface tests of obs_mode "state", which measures nothing, so
the env judges no success on it either.
"""

from __future__ import annotations

import itertools
import os
import time

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import StandIn, spec_options
from librobot_gym.hardware.j1939.driver import SEND_PERIOD, J1939Driver, check_machine
from librobot_gym.hardware.j1939.emulator import TICK, ExcavatorEcuEmulator, ticks_in
from librobot_gym.hardware.j1939.wheeled_driver import WheeledJ1939Driver
from librobot_gym.hardware.j1939.wheeled_emulator import WheeledEcuEmulator
from librobot_gym.hardware.machine import SiteReport
from librobot_gym.robots import RobotSpec

RECEIVE_TIMEOUT = 1.0  # s (wall clock) a lockstep tick waits for its frames; never in practice
CLAIM_POLL = 0.005  # s between looks at the address claim (can-j1939's timers are wall clock)
SEND_TICKS = round(SEND_PERIOD / TICK)  # a valve frame every 2 ticks (50 Hz)

_channels = itertools.count()


class EmulatedMachineDriver(J1939Driver):
    """A `J1939Driver` talking to its own `ExcavatorEcuEmulator` on a private python-can
    `virtual` channel (module doc). `emulator` is the machine, for fault injection; it starts
    on `connect()`. `lockstep`: simulated time, advanced by `advance(dt)`. `static_site`:
    report a placeholder instrumented site (module doc)."""

    EMULATOR = ExcavatorEcuEmulator

    def __init__(self, robot: RobotSpec | None = None, lockstep: bool = False,
                 static_site: bool = False, **options):
        channel = f"librobot-j1939-{os.getpid()}-{next(_channels)}"
        self.emulator = self.EMULATOR(channel, robot=robot, lockstep=lockstep)
        super().__init__(channel=channel, interface="virtual", robot=self.emulator.robot,
                         **options)
        self.lockstep = lockstep
        self.realtime = not lockstep  # the safety layer polls only a real-time driver
        self.static_site = bool(static_site)
        self._site: SiteReport | None = None

    @property
    def stand_in(self) -> StandIn:
        """A stand-in simulating the machine only: the env refuses the expert, state
        observations (unless the placeholder site) and success claims on it."""
        spec = "j1939:emulator" + (":lockstep" if self.lockstep else "")
        if self.static_site:
            return StandIn(spec + "?scene=static", "only the machine's ECUs and hydraulics; its "
                           "placeholder site reports the truck where the reset put it and no "
                           "material moved", objects=False)
        return StandIn(spec, "only the machine's ECUs and hydraulics: no soil, no truck",
                       objects=False)

    @classmethod
    def from_spec(cls, rest: str, robot: RobotSpec, **options) -> EmulatedMachineDriver:
        """`emulator[:lockstep]`, optionally `?scene=static|none`; keyword options win."""
        check_machine(robot)
        where, params = spec_options("j1939", rest, "?scene=static or ?scene=none")
        scene = params.pop("scene", None)
        if params or scene not in (None, "static", "none"):
            raise ConfigError(f"driver 'j1939:{rest}': the emulator takes one option, "
                              f"scene=static|none; got {rest!r}")
        if scene is not None:
            options.setdefault("static_site", scene == "static")
        if robot.drivetrain is not None and not issubclass(cls, WheeledJ1939Driver):
            cls = EmulatedWheeledDriver
        return cls(robot, lockstep=where == "emulator:lockstep", **options)

    # --- clock -------------------------------------------------------------------------------
    def now(self) -> float:
        return self.emulator.now()

    def advance(self, dt: float) -> bool:
        """Lockstep: run the machine and the link for `dt` s (whole 10 ms ticks) now; False in
        real time (see `lockstep_advance`)."""
        if not self.lockstep:
            return False
        for _ in range(ticks_in(dt)):
            self._tick()
        return True

    def _tick(self) -> None:
        machine = self.emulator
        if self._streaming and machine.ticks % SEND_TICKS == 0:
            self._send_or_lose()
        sent = machine.frames_sent
        machine.advance(TICK)
        self._receive(machine.frames_sent - sent)

    def _receive(self, expected: int) -> None:
        """Hand the frames on the bus to `_on_frame`, waiting (bounded) for `expected` ones."""
        bus, got = self._bus, 0
        give_up = time.monotonic() + RECEIVE_TIMEOUT
        while bus is not None:
            wait = max(0.0, give_up - time.monotonic()) if got < expected else 0.0
            message = bus.recv(timeout=wait)
            if message is None:
                break
            self._on_frame(message)
            got += 1

    # --- the lockstep hooks of J1939Driver ---------------------------------------------------
    def _start_receiving(self) -> None:
        if not self.lockstep:
            super()._start_receiving()

    def _start_stream(self) -> None:
        if not self.lockstep:
            super()._start_stream()
        self._streaming = True

    def _wait_for(self, predicate, deadline: float) -> bool:
        """Lockstep: until both ECUs hold their addresses (can-j1939's wall-clock timers) pass
        frames and poll; then advance simulated time tick by tick, for at most
        `connect_timeout` simulated seconds, and return on a frame tick (an even one), so that
        each control period starts with a valve frame and ends with fresh readings."""
        if not self.lockstep:
            return super()._wait_for(predicate, deadline)
        simulated_deadline = self.now() + self.connect_timeout
        while True:
            self.emulator.pump()
            self._receive(0)
            claimed = self.emulator.claimed and self._claimed()
            if predicate() and (not claimed or self.emulator.ticks % SEND_TICKS == 0):
                return True
            if claimed:
                if self.now() >= simulated_deadline:
                    return False
                self._tick()
            elif time.monotonic() > deadline:
                return False
            else:
                time.sleep(CLAIM_POLL)

    # --- episodes ------------------------------------------------------------------------------
    def start_episode(self, seed: int | None) -> None:
        """Lockstep: the frames on the bus are taken, the machine restarts as it started at
        tick 0 (`ExcavatorEcuEmulator.restart`), the driver forgets its readings and its
        counter, and `connect()` ticks until the machine's first status and angles, as after
        construction: every episode starts from the same machine, link and clock (the
        emulator has no noise to seed). In real time: nothing, the machine runs on."""
        if not self.lockstep:
            return
        self._receive(0)
        self.emulator.restart()
        with self._lock:
            self._reset_readings()
            self._counter, self._lost, self.neutral_since = 0, None, None
            self._valves, self._active = self._neutral(), False
        self.connect()

    # --- link ----------------------------------------------------------------------------------
    def connect(self) -> None:
        if not self.emulator.running:
            self.emulator.start()
        super().connect()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.emulator.stop()

    # --- the site ------------------------------------------------------------------------------
    def reset_scene(self, poses, piles_kg, base_pose=None, payload_kg: float = 0.0) -> bool:
        """With `static_site` the placeholder site places the truck itself and reports it
        there, the piles as surveyed and nothing delivered or spilled (module doc); else False
        (the operator). A wheeled machine is parked at `base_pose` (the stand-in's operator
        drives it there) with `payload_kg` in its bucket or body, on either site."""
        if isinstance(self.emulator, WheeledEcuEmulator):
            self.emulator.payload_kg = float(payload_kg)
            if base_pose is not None:
                self.emulator.place(*base_pose)
            self.advance(SEND_PERIOD)  # lockstep: read it so (real time: it just does)
        if not self.static_site:
            return False
        self._site = SiteReport.at_rest(poses, pile_kg=float(sum(piles_kg.values())))
        return True

    def scene(self) -> SiteReport | None:
        """The static site; before the first `reset_scene` an empty one (envs size their
        observations before any reset)."""
        if not self.static_site:
            return None
        return self._site or SiteReport()


class EmulatedWheeledDriver(EmulatedMachineDriver, WheeledJ1939Driver):
    """A `WheeledJ1939Driver` on its own `WheeledEcuEmulator` (a wheel loader or an
    articulated hauler), in real time or in lockstep, as `EmulatedMachineDriver`."""

    EMULATOR = WheeledEcuEmulator
