"""What the emulated controller runs of the programs sent to its script ports: ur_rtde's control
script (`rtde_control.script`, which `RTDEControlInterface` uploads), by the register protocol
the script defines.

The emulator runs no URScript. It reads the uploaded text for what the client will rely on:
the register offset (`global reg_offset_int = ...`), the command numbers of `process_cmd` and
the name each branch gives itself (its first `textmsg("...")` or `# comment`), and the set of
"realtime" commands of its main loop. It then does what the script does with them, in the
controller's terms:

- main loop: the command is input_int_register_0; a realtime command (servoJ, speedJ...) is
  processed and output_int_register_0 := 1 (ready); another one is processed once, and
  output_int_register_0 := 2 (done) when it has finished (a blocking move or stop, when the
  arm is at rest), until the client clears the command (0), which answers 1 again.
- servoJ -> `arm.servo` (lookahead, gain), speedJ -> `arm.speed_to`, movej (sync or async)
  -> `arm.move`, stopj / stopl / speed_stop / servo_stop -> `arm.stop`, set_watchdog -> the RTDE
  watchdog on the command register (action "stop": the program stops when the client has not
  written it for 1/frequency s), protective_stop -> a protective stop, is_steady, get_joint
  torques (zeros), and the settings that do not move a kinematic arm (payload, TCP, force mode
  gains) accepted as no-ops. Any other command stops the program with a logged "not emulated",
  so a client relying on it learns at once instead of getting a silent success.
"""

from __future__ import annotations

import re

from librobot_gym.hardware.rtde.modes import SCRIPT_DONE, SCRIPT_READY

_BRANCH = re.compile(r"^\s*(?:el)?if cmd == (\d+):")
_NAME = re.compile(r'^\s*(?:textmsg\("([^"]+)"\)|#\s*(\w[\w ]*)|exec_stopl_stopj\(cmd, "(\w+))')
_REALTIME = re.compile(r"^\s*if (cmd == \d+(?: or cmd == \d+)+):\s*$", re.M)
_OFFSET = re.compile(r"global reg_offset_int\s*=\s*(?:#[^\n]*\n)?\s*(\d+)")
NO_EFFECT = frozenset({"zero_ftsensor", "set_payload", "set_target_payload", "set_tcp",
                       "force_mode_set_damping", "force_mode_set_gain_scaling", "set_gravity",
                       "get_steptime", "get_actual_joint_positions_history"})


def interpreter_for(text: str):
    """(interpreter, None) for a program the emulator runs, else (None, why not)."""
    if "def process_cmd(cmd):" not in text or "def signal_ready():" not in text:
        return None, ("the emulator runs ur_rtde's control script only (RTDEControlInterface "
                      "uploads it); send programs to a real controller or URSim")
    try:
        return ControlScript(text), None
    except ValueError as error:
        return None, str(error)


def parse_commands(text: str) -> dict[int, str]:
    """Command number -> name, from the branches of `process_cmd`."""
    lines = text.splitlines()
    commands = {}
    for i, line in enumerate(lines):
        branch = _BRANCH.match(line)
        if not branch:
            continue
        for following in lines[i + 1: i + 4]:
            name = _NAME.match(following)
            if name:
                commands[int(branch[1])] = next(g for g in name.groups() if g).strip()
                break
            if following.strip():
                break
    return commands


class ControlScript:
    """ur_rtde's control script, run by its register protocol (module doc)."""

    def __init__(self, text: str):
        offset = _OFFSET.search(text)
        realtime = _REALTIME.search(text)
        if offset is None or realtime is None:
            raise ValueError("this control script has no register offset or realtime command "
                             "list; the emulator knows ur_rtde's control script of 1.5-1.6")
        self.offset = int(offset[1])
        self.commands = parse_commands(text)
        self.realtime = {int(n) for n in re.findall(r"\d+", realtime[1])}
        self.controller = None
        self.executing = False
        self.pending = False  # a blocking command waits for the arm to come to rest
        self.watchdog_period: float | None = None
        self.last_write = 0.0
        self.async_count = self.async_id = 0

    # --- registers ----------------------------------------------------------------------------
    def _in_int(self, i: int) -> int:
        return self.controller.input_int[i + self.offset]

    def _in_float(self, i: int) -> float:
        return self.controller.input_double[i + self.offset]

    def _q(self, first: int = 0) -> list[float]:
        return [self._in_float(first + k) for k in range(6)]

    def _out_int(self, i: int, value: int) -> None:
        self.controller.output_int[i + self.offset] = int(value)

    def _async_progress(self, value: int) -> None:
        """The script's write_async_progress_register (output_int_register_2)."""
        self.async_count = (self.async_count + 1) % 128
        if value == 0:
            self.async_id = (self.async_id + 1) % 128
        register = self.async_count * 65536 + self.async_id * 16777216
        if value >= 0:
            register += min(value, 32767) + 32768
        self._out_int(2, register)

    # --- the program's life -------------------------------------------------------------------
    def begin(self, controller) -> None:
        self.controller = controller
        self.last_write = controller.now()
        self._async_progress(-1)
        self._out_int(0, SCRIPT_READY)

    def end(self) -> None:
        self.pending = self.executing = False

    def restart(self) -> None:
        """A lockstep episode begins: nothing pending, the watchdog's clock from now."""
        self.pending = self.executing = False
        self.last_write = self.controller.now()
        self._out_int(0, SCRIPT_READY)

    def on_inputs(self, names: set[str]) -> None:
        """The client wrote input registers (one RTDE package): the main loop's pass."""
        c = self.controller
        if f"input_int_register_{self.offset}" in names:
            self.last_write = c.now()
        cmd = self._in_int(0)
        if cmd != 0:
            c.command_handled()
        if cmd in self.realtime:
            self._process(cmd)
            if c.program is self:
                self._out_int(0, SCRIPT_READY)
        elif cmd == 0:
            self.executing = False
            self._out_int(0, SCRIPT_READY)
        elif not self.executing:
            self.executing = True
            self._process(cmd)
            if c.program is self and not self.pending:
                self._out_int(0, SCRIPT_DONE)
            elif self.pending and c.lockstep:  # the client waits: its wait is simulated time
                c.run_until(lambda: not self.pending, limit=30.0)

    def tick(self) -> None:
        c = self.controller
        if self.pending and c.arm.done:
            self.pending = False
            self._out_int(0, SCRIPT_DONE)
            if self.async_running:
                self.async_running = False
                self._async_progress(-1)
        if self.watchdog_period is not None and c.now() - self.last_write > self.watchdog_period:
            c.stop_program(f"RTDE watchdog: input_int_register_{self.offset} not updated for "
                           f"{c.now() - self.last_write:.3f} s (limit {self.watchdog_period:.3f} "
                           "s)")

    async_running = False

    # --- one command ----------------------------------------------------------------------------
    def _process(self, cmd: int) -> None:
        c, name = self.controller, self.commands.get(cmd, f"command {cmd}")
        arm = c.arm
        if name == "servoJ":
            arm.servo(self._q(), lookahead=self._in_float(9), gain=self._in_float(10))
        elif name == "speedJ":
            arm.speed_to(self._q(), self._in_float(6))
        elif name == "movej":
            arm.move(self._q(), self._in_float(6), self._in_float(7))
            if self._in_int(1) == 1:  # async: started, done at once
                self._async_progress(0)
                self.async_running = True
            else:
                self.pending = True
        elif name in ("stopj", "stopl", "speed_stop", "servo_stop"):
            arm.stop(self._in_float(0))
            asynchronous = name in ("stopj", "stopl") and self._in_int(1) == 1
            self.pending = not asynchronous and arm.moving
            if not arm.moving:
                arm.halt()
        elif name == "set_watchdog":
            frequency = self._in_float(0)
            self.watchdog_period = 1.0 / frequency if frequency > 0 else None
            self.last_write = c.now()
        elif name == "protective_stop":
            c.protective_stop("protective_stop() called by the control script")
        elif name == "is_steady":
            self._out_int(1, int(not arm.moving))
        elif name == "get_joint_torques":
            for k in range(6):
                c.output_double[k + self.offset] = 0.0
        elif name == "Received stop script!":
            c.stop_program("the client stopped the control script")
        elif name not in NO_EFFECT:
            c.unsupported.append(name)
            c.stop_program(f"{name} (command {cmd}) is not emulated")
