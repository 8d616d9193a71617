"""The emulated controller's dashboard server (port 29999): one newline-terminated command per
line, one reply line each, with the wording of an e-Series controller (PolyScope 5), so
ur_rtde's `DashboardClient` parses it as a robot's. A client is greeted with "Connected:
Universal Robots Dashboard Server".

The commands that change the robot (power, brakes, unlock, play, stop, restart safety) are
refused while the robot is in local control (`Controller.remote_control` False), as PolyScope
5.6+ refuses them: remote control is switched on at the pendant (README).
"""

from __future__ import annotations

import socket

from librobot_gym.hardware.rtde.controller import (
    CONTROLLER_VERSION,
    ROBOT_MODEL,
    SERIAL_NUMBER,
    Controller,
)
from librobot_gym.hardware.rtde.listener import Listener, read_line

PORT = 29999
GREETING = "Connected: Universal Robots Dashboard Server"
LOCAL_CONTROL = "Command is not allowed due to safety reasons. Robot is in local control"
REMOTE_ONLY = ("power on", "power off", "brake release", "unlock protective stop", "play",
               "stop", "pause", "restart safety", "load", "shutdown")


def polyscope_version() -> str:
    major, minor, bugfix, build = CONTROLLER_VERSION
    return f"URSoftware {major}.{minor}.{bugfix}.{build} (Oct 17 2023)"


class DashboardServer:
    def __init__(self, controller: Controller, host: str, port: int = PORT):
        self.controller = controller
        self.received: list[str] = []  # every command, in order (tests read it)
        self.listener = Listener(host, port, self._serve, "dashboard")

    def close(self) -> None:
        self.listener.close()

    def _serve(self, conn: socket.socket) -> None:
        conn.sendall((GREETING + "\n").encode())
        buffer = bytearray()
        while True:
            line = read_line(conn, buffer)
            if line is None:
                return
            command = line.decode("utf-8", "replace").strip()
            self.received.append(command)
            reply = self.reply(command)
            self.controller.touch()
            conn.sendall((reply + "\n").encode())
            if command == "quit":
                return

    def reply(self, command: str) -> str:
        """The dashboard server's answer to one command (and its effect on the controller)."""
        c = self.controller
        word = command.lower()
        if not c.remote_control and any(word.startswith(w) for w in REMOTE_ONLY):
            return LOCAL_CONTROL
        with c.lock:
            if word == "power on":
                why = c.power_on()
                return "Powering on" if why is None else f"Failed to execute: power on ({why})"
            if word == "power off":
                c.power_off()
                return "Powering off"
            if word == "brake release":
                why = c.brake_release()
                return "Brake releasing" if why is None else \
                    f"Failed to execute: brake release ({why})"
            if word == "unlock protective stop":
                why = c.unlock_protective_stop()
                return "Protective stop releasing" if why is None else why
            if word == "close safety popup":
                return "closing safety popup"
            if word == "close popup":
                return "closing popup"
            if word == "restart safety":
                c.restart_safety()
                return "Restarting safety"
            if word == "robotmode":
                return f"Robotmode: {c.robot_mode.name}"
            if word == "safetymode":
                return f"Safetymode: {c.safety_mode.name}"
            if word == "safetystatus":
                return f"Safetystatus: {c.safety_mode.name}"
            if word == "programstate":
                return f"{c.runtime_state.name} {c.program_name}"
            if word == "running":
                return f"Program running: {str(c.program_running()).lower()}"
            if word == "stop":
                if not c.program_running():
                    return "Failed to execute: stop"
                c.stop_program("stopped from the dashboard server")
                return "Stopped"
            if word in ("play", "pause"):
                return f"Failed to execute: {word}"  # no program is loaded from a file
            if word == "polyscopeversion":
                return polyscope_version()
            if word == "get serial number":
                return SERIAL_NUMBER
            if word == "get robot model":
                return ROBOT_MODEL
            if word == "is in remote control":
                return str(c.remote_control).lower()
            if word == "get loaded program":
                return "No program loaded"
            if word == "quit":
                return "Disconnected"
            if word == "shutdown":
                return "Shutting down"
            if word.startswith("addtolog"):
                c.log(command[len("addToLog"):].strip())
                return "Added log message"
            if word.startswith("popup"):
                return "showing popup"
        return f"could not understand: '{command}'"
