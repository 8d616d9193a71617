"""Measure how fast the wheel loader and the articulated hauler stop on each fault, over J1939.

For each machine and fault: the driver and the ECU emulator run in real time (`j1939:emulator`,
threads on the wall clock, as on a machine) or in lockstep (`--lockstep`, simulated time); the
machine drives straight at full throttle for 3 s, the fault is injected, the driver is polled
every 25 ms (the safety layer's watchdog: four polls per 100 ms control period) until it
raises, then `stop()` is called as the safety layer does, and the machine is watched until it
stands still. Printed per fault: the typed error, the speed at the fault, fault -> error, and
fault -> standstill (the stop distance follows from the brakes left: a brake-pressure fault
stops on the spring-applied parking brake).

Usage: python scripts/j1939_reaction_times.py [--machine wheel_loader|hauler] [--lockstep]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from librobot_gym.hardware.driver import DriverError
from librobot_gym.hardware.drivers import make_driver
from librobot_gym.robots import get_robot

POLL = 0.025  # s
FAULTS = ("brake_pressure_low", "transmission", "red_stop", "estop", "heartbeat", "silent",
          "angle_not_available", "pose_out_of_range")
FORWARD = np.array([1.0, 0.0, 0.0, 1.0, 0.0, 0.0])


def inject(emulator, fault: str) -> None:
    {"brake_pressure_low": emulator.brake_pressure_low,
     "transmission": emulator.transmission_fault,
     "red_stop": lambda: emulator.raise_fault(spn=1675, fmi=31),
     "estop": emulator.press_estop, "heartbeat": emulator.silence_status,
     "silent": emulator.go_silent,
     "angle_not_available": lambda: emulator.override(ArticulationAngle=0xFFFF),
     "pose_out_of_range": lambda: emulator.override(PositionX=0xFC00)}[fault]()


def repair(emulator) -> None:
    emulator.clear_faults()
    emulator.clear_overrides()
    emulator.resume()
    emulator.press_estop(False)


def wait(driver, seconds: float, lockstep: bool) -> None:
    if lockstep:
        driver.advance(round(seconds / 0.01) * 0.01)
    else:
        time.sleep(seconds)


def measure(machine: str, fault: str, lockstep: bool, tries: int = 3
            ) -> tuple[str, float, float, float]:
    """(typed error, speed at the fault, fault -> error s, fault -> standstill s). A run whose
    machine is not moving when the fault comes (the link dropped during the run-up: a loaded
    computer can miss the 150 ms heartbeat in real time) is repeated, up to `tries` times."""
    for _ in range(tries - 1):
        result = _measure(machine, fault, lockstep)
        if result[1] > 1.0:
            return result
    return _measure(machine, fault, lockstep)


def _measure(machine: str, fault: str, lockstep: bool) -> tuple[str, float, float, float]:
    spec = "j1939:emulator" + (":lockstep" if lockstep else "")
    driver = make_driver(spec, get_robot(machine))
    driver.connect()
    emulator = driver.emulator
    try:
        driver.command(FORWARD)
        wait(driver, 3.0, lockstep)
        speed, start = emulator.speed, emulator.now()
        inject(emulator, fault)
        error = "none"
        while emulator.now() - start < 2.0:
            wait(driver, POLL, lockstep)
            try:
                driver.read_state()
            except DriverError as caught:
                error = type(caught).__name__
                break
        raised = emulator.now() - start
        driver.stop()
        while emulator.stopped_at is None and emulator.now() - start < 20.0:
            wait(driver, 0.01, lockstep)
        stopped = (emulator.stopped_at if emulator.stopped_at is not None else np.inf) - start
        return error, speed, raised, stopped
    finally:
        repair(emulator)
        driver.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--machine", choices=("wheel_loader", "hauler"), action="append")
    parser.add_argument("--lockstep", action="store_true")
    args = parser.parse_args()
    clock = "simulated" if args.lockstep else "wall-clock"
    print(f"| machine | fault | typed error | speed at fault (m/s) | fault -> error (ms, "
          f"{clock}) | fault -> standstill (s) |")
    print("|---|---|---|---|---|---|")
    for machine in args.machine or ("wheel_loader", "hauler"):
        for fault in FAULTS:
            error, speed, raised, stopped = measure(machine, fault, args.lockstep)
            print(f"| {machine} | {fault} | {error} | {speed:.1f} | {raised * 1e3:.0f} | "
                  f"{stopped:.2f} |")


if __name__ == "__main__":
    main()
