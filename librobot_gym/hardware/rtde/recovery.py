"""Bringing a UR arm to RUNNING through its dashboard server (ur_rtde's `DashboardClient`):
what the driver does at every `connect()`, so a reset recovers from whatever the robot allows.

- local control -> `NotInRemoteControl` (a person switches the pendant to remote control);
- an emergency stop pressed -> `EmergencyStop` (a person releases the button);
- a protective stop -> "unlock protective stop", retried until the controller's waiting time
  (5 s after the stop) has passed, then "close safety popup";
- a violation or fault -> "restart safety" (the arm powers off), then on as below;
- powered off -> "power on", wait for IDLE; brakes on -> "brake release", wait for RUNNING.

Waits go through `pause(seconds)`, which sleeps on a robot and lets simulated time pass on a
lockstep emulator, so the same code recovers both.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import DriverDisconnected
from librobot_gym.hardware.rtde.errors import (
    EmergencyStop,
    NotInRemoteControl,
    PoweredOff,
    ProtectiveStop,
    SafetyLimitViolation,
)

DASHBOARD_TIMEOUT_MS = 2000
POLL = 0.1  # s between dashboard polls while waiting for a mode


def ur_rtde(module: str):
    """One of ur-rtde's modules (rtde_receive, rtde_control, dashboard_client); a ConfigError
    saying how to install it when it is missing."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ConfigError("the UR driver needs the ur-rtde client library: pip install "
                          "'librobot-gym[real]' (or pip install ur-rtde)") from error


def _word(reply: str) -> str:
    """"Robotmode: RUNNING" -> "RUNNING"."""
    return reply.rsplit(":", 1)[-1].strip().upper()


class Dashboard:
    """The dashboard server of the controller at `host` (port 29999)."""

    def __init__(self, host: str, pause: Callable[[float], None], clock=time.monotonic):
        self.host, self.pause, self.clock = host, pause, clock
        self.client = None

    def connect(self) -> None:
        if self.client is not None and self.client.isConnected():
            return
        self.client = ur_rtde("dashboard_client").DashboardClient(self.host)
        try:
            self.client.connect(DASHBOARD_TIMEOUT_MS)
        except RuntimeError as error:
            self.client = None
            raise DriverDisconnected(
                f"cannot reach the dashboard server of the UR controller at {self.host}:29999 "
                f"({error}); check the cable and the robot's network settings (README, 'UR5e: "
                "network set-up') and that the controller is booted") from error

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.disconnect()
            except RuntimeError:
                pass
            self.client = None

    def _ask(self, method: str, *args):
        try:
            return getattr(self.client, method)(*args)
        except RuntimeError as error:  # the socket failed
            self.client = None
            raise DriverDisconnected(f"the dashboard server at {self.host} stopped answering "
                                     f"({error}); check the network, then reset") from error

    def safety(self) -> str:
        return _word(self._ask("safetystatus"))

    def robot_mode(self) -> str:
        return _word(self._ask("robotmode"))

    def recover(self, unlock_timeout: float = 10.0, power_timeout: float = 30.0) -> list[str]:
        """Bring the arm to RUNNING with its safety NORMAL (module doc); the steps taken."""
        self.connect()
        steps: list[str] = []
        try:
            version = self._ask("polyscopeVersion")
        except DriverDisconnected:  # a link that died since the last reset: once more, anew
            self.connect()
            version = self._ask("polyscopeVersion")
        major, minor = (int(x) for x in version.split(".")[:2]) if version[:1].isdigit() \
            else (5, 0)
        if (major, minor) >= (5, 6) and not self._ask("isInRemoteControl"):
            raise NotInRemoteControl(
                f"the UR at {self.host} is in local control: switch it to remote control on the "
                "teach pendant (top-right menu; enable it first in Settings > System > Remote "
                "Control), then reset")
        safety = self.safety()
        if "EMERGENCY" in safety:
            raise EmergencyStop(f"the UR at {self.host} reports {safety}: release the emergency "
                                "stop button, make sure the cell is safe, then reset")
        if safety == "PROTECTIVE_STOP":
            self._unlock(unlock_timeout)
            steps.append("unlocked the protective stop")
        elif safety in ("VIOLATION", "FAULT"):
            self._ask("restartSafety")
            self._wait(lambda: self.safety() == "NORMAL", power_timeout,
                       SafetyLimitViolation, f"the safety system did not restart from {safety}")
            steps.append(f"restarted the safety system after a {safety.lower()}")
        self._ask("closeSafetyPopup")
        mode = self.robot_mode()
        if mode in ("POWER_OFF", "POWER_ON", "BOOTING"):
            if mode == "POWER_OFF":
                self._ask("powerOn")
            self._wait(lambda: self.robot_mode() == "IDLE", power_timeout, PoweredOff,
                       "the arm did not power on")
            steps.append("powered on")
            mode = "IDLE"
        if mode == "IDLE":
            self._ask("brakeRelease")
            self._wait(lambda: self.robot_mode() == "RUNNING", power_timeout, PoweredOff,
                       "the brakes were not released")
            steps.append("released the brakes")
        elif mode != "RUNNING":
            raise PoweredOff(f"the UR at {self.host} is in robot mode {mode}; bring it to "
                             "RUNNING on the teach pendant, then reset")
        return steps

    def _unlock(self, timeout: float) -> None:
        deadline = self.clock() + timeout
        while True:
            try:
                self.client.unlockProtectiveStop()
                return
            except RuntimeError as error:  # "Cannot unlock protective stop until 5s after..."
                if self.clock() > deadline:
                    raise ProtectiveStop(
                        f"the protective stop of the UR at {self.host} could not be unlocked "
                        f"within {timeout:g} s ({error}); inspect its cause and unlock it on "
                        "the teach pendant") from error
                self.pause(POLL)

    def _wait(self, done: Callable[[], bool], timeout: float, error_type, what: str) -> None:
        deadline = self.clock() + timeout
        while not done():
            if self.clock() > deadline:
                raise error_type(f"{what} within {timeout:g} s on the UR at {self.host}; check "
                                 "the teach pendant for a message")
            self.pause(POLL)
