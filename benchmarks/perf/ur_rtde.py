"""The UR driver's timing on the controller emulator (ur-rtde, unmodified, on loopback), measured
in one run:

  * RTDE read latency: how old the newest state is when `read_state()` returns it (our
    `time.monotonic()` minus the controller's clock time of the package, the two clocks being
    the same host clock), and what a `read_state()` call costs (RTDE getters and the gripper's
    `GET POS` round trip);
  * the RTDE stream: packages per second seen by the receive interface (asked: 500);
  * command round trip: from `command()` (servoJ) until the RTDE stream reports the new target
    (`target_q`): client -> RTDE input -> control script -> RTDE output -> client;
  * each fault injected while the arm moves: the driver's typed error and how long until a read
    raises it, how long until the arm is at rest, and how long the next `connect()` takes to
    recover (where the robot allows it; the emulator's protective-stop wait is set to 1 s);
  * the real env (`librobot/UR5e-PickCup-Real-v0`) on `ur:emulator:lockstep`: steps/s.

Usage: python benchmarks/perf/ur_rtde.py [--reads 2000] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import librobot_gym  # noqa: F401  (registers the envs)
from librobot_gym.hardware.driver import DriverError
from librobot_gym.hardware.drivers import make_driver
from librobot_gym.robots import get_robot

ROBOT = get_robot("ur5e")
FAULTS = (  # (emulator call, arguments, what a person does before the next reset)
    ("protective_stop", (), None),
    ("emergency_stop", (), "release_emergency_stop"),
    ("violate_safety_limit", (), None),
    ("stop_program", (), None),
    ("drop_packages", (1.0,), None),
    ("delay_packages", (0.5,), None),
    ("drop_connections", (1.0,), None),
)


def percentiles(values) -> dict:
    a = np.asarray(values) * 1e3
    return {"median_ms": round(float(np.median(a)), 3), "p95_ms": round(float(np.percentile(
        a, 95)), 3), "max_ms": round(float(a.max()), 3)}


def read_latency(driver, reads: int) -> dict:
    epoch = driver.emulator.epoch()
    ages, costs = [], []
    for _ in range(reads):
        start = time.monotonic()
        state = driver.read_state()
        end = time.monotonic()
        costs.append(end - start)
        ages.append(end - (epoch + state.extras["controller_time"]))
        time.sleep(0.001)
    return {"age_of_newest_state": percentiles(ages), "read_state_call": percentiles(costs)}


def stream_rate(driver, seconds: float = 1.0) -> float:
    stamps, end = set(), time.monotonic() + seconds
    while time.monotonic() < end:
        stamps.add(driver.receive.getTimestamp())
        time.sleep(0.0002)
    return len(stamps) / seconds


def command_round_trip(driver, trials: int = 200) -> dict:
    times = []
    for i in range(trials):
        q = driver.read_state().joint_pos
        target = q + (0.002 if i % 2 == 0 else -0.002)
        start = time.monotonic()
        driver.command(target, 0.085)
        while not np.allclose(driver.receive.getTargetQ(), target, atol=1e-9):
            time.sleep(0.0001)
        times.append(time.monotonic() - start)
        time.sleep(0.01)
    return percentiles(times)


def fault_reaction(driver, fault: str, args, release) -> dict:
    em = driver.emulator
    driver.connect()
    for _ in range(10):  # the arm moving under servoJ
        state = driver.read_state()
        driver.command(state.joint_pos + 0.02, 0.085)
        time.sleep(0.02)
    start = time.monotonic()
    getattr(em, fault)(*args)
    error = None
    while time.monotonic() - start < 5.0:
        try:
            driver.read_state()
        except DriverError as raised:
            error = raised
            break
        time.sleep(0.0005)
    detected = time.monotonic() - start
    driver.stop()
    while time.monotonic() - start < 5.0 and max(abs(v) for v in em.state()["qd"]) > 1e-9:
        time.sleep(0.0005)
    stopped = time.monotonic() - start
    if release:
        getattr(em, release)()
    if fault in ("drop_packages", "delay_packages", "drop_connections"):
        time.sleep(args[0])
    begin = time.monotonic()
    driver.connect()
    return {"error": type(error).__name__, "detected_ms": round(detected * 1e3, 1),
            "stopped_ms": round(stopped * 1e3, 1),
            "recovered_s": round(time.monotonic() - begin, 2),
            "recovery": list(driver.recovery_steps)}


def lockstep_env_rate(steps: int = 300) -> float:
    import gymnasium as gym

    from librobot_gym.hardware.cameras import ArrayFrameSource

    grey = np.full((64, 64, 3), 90, np.uint8)
    env = gym.make("librobot/UR5e-PickCup-Real-v0", obs_mode="state",
                   driver="ur:emulator:lockstep?scene=static", operator="auto",
                   cameras={c.name: ArrayFrameSource([grey]) for c in ROBOT.cameras})
    try:
        env.reset(seed=0)
        start = time.perf_counter()
        for _ in range(steps):
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                env.reset()
        return steps / (time.perf_counter() - start)
    finally:
        env.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    driver = make_driver("ur:emulator?protective_stop_wait=1.0", ROBOT)
    results: dict = {}
    try:
        start = time.monotonic()
        driver.connect()
        results["connect_s"] = round(time.monotonic() - start, 2)
        results["rtde_read"] = read_latency(driver, args.reads)
        results["rtde_packages_per_s"] = round(stream_rate(driver), 1)
        results["command_round_trip"] = command_round_trip(driver)
        results["faults"] = {}
        for name, fault_args, release in FAULTS:
            try:
                results["faults"][name] = fault_reaction(driver, name, fault_args, release)
            except DriverError as error:  # a reading, not a crash: say what went wrong
                state = driver.emulator.state()
                results["faults"][name] = {"failed": f"{type(error).__name__}: {error}",
                                           "controller_log": state["messages"][-6:]}
    finally:
        driver.close()
    results["real_env_lockstep_steps_per_s"] = round(lockstep_env_rate(), 1)
    print(json.dumps(results, indent=2))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2)


if __name__ == "__main__":
    main()
