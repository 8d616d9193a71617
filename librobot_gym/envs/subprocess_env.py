"""`EnvProcess`: one gymnasium env living in a child process, stepped through a pipe.

Batched evaluation (`--num-envs K --async-envs`) steps K envs per policy call. In one process
the envs' physics and rendering run one after another while the other cores idle; with each
env in its own process, `step_async` sends every env its action first and `step_wait` collects
the results, so the K envs step on as many cores as there are (LeRobot's `use_async_envs`,
gymnasium's `AsyncVectorEnv`). Not a vector env: each env resets with its own seed and variant
when its own episode ends, as `benchmarks/batched.py` wants.

The child builds the env itself from `make` (a picklable callable: a module-level function or
a `functools.partial` of one). An exception in the child comes back as the same error type
with the child's message where it is a librobot error, else as `EnvProcessError`; a child that
dies (killed, crashed) is an `EnvProcessError` naming its exit code.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import traceback
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from librobot_gym import errors
from librobot_gym.errors import LibrobotError


class EnvProcessError(LibrobotError, RuntimeError):
    """An env in a child process failed or died."""


def _serve(pipe, make: Callable[[], gym.Env]) -> None:
    """The child: build the env, then answer (command, payload) messages until "close"."""
    # Mesa's CPU rasteriser (llvmpipe, the EGL renderer of a machine without a GPU) renders
    # with a thread per core by default: with an env per process the processes already fill
    # the cores, so each renders in its own thread (read when the child opens its display).
    os.environ.setdefault("LP_NUM_THREADS", "0")
    try:
        env = make()
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
        pipe.send(("error", _describe(exc)))
        return
    pipe.send(("ok", None))
    try:
        while True:
            command, payload = pipe.recv()
            if command == "close":
                break
            try:
                if command == "reset":
                    answer = env.reset(**payload)
                elif command == "step":
                    answer = env.step(payload)
                else:
                    answer = getattr(env.unwrapped, command)
                pipe.send(("ok", answer))
            except Exception as exc:  # noqa: BLE001
                pipe.send(("error", _describe(exc)))
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        env.close()


def _describe(exc: Exception) -> tuple[str, str, str]:
    return type(exc).__name__, str(exc), traceback.format_exc(limit=4)


class EnvProcess:
    """A gymnasium env in a child process: `reset`, `step`, and `step_async` + `step_wait`."""

    def __init__(self, make: Callable[[], gym.Env], name: str = "env"):
        methods = mp.get_all_start_methods()
        # fork: the child starts in ~10 ms with everything imported; it never touches torch
        self._context = mp.get_context("fork" if "fork" in methods else "spawn")
        self.name = name
        self._pipe, child = self._context.Pipe()
        self._process = self._context.Process(target=_serve, args=(child, make), daemon=True,
                                              name=f"librobot-{name}")
        self._process.start()
        child.close()
        self._pending = False
        self._receive()

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        self._send("reset", {"seed": seed, "options": options})
        return self._receive()

    def step_async(self, action) -> None:
        """Send the action; the child steps while the caller does other work."""
        self._send("step", action)
        self._pending = True

    def step_wait(self):
        """The (obs, reward, terminated, truncated, info) of the last `step_async`."""
        self._pending = False
        return self._receive()

    def step(self, action):
        self.step_async(action)
        return self.step_wait()

    def attribute(self, name: str) -> Any:
        """An attribute of the child's `env.unwrapped` (e.g. "max_episode_steps")."""
        self._send(name, None)
        return self._receive()

    def close(self) -> None:
        if self._process.is_alive():
            try:
                if self._pending:
                    self._receive()
                self._pipe.send(("close", None))
            except (OSError, EOFError, EnvProcessError):
                pass
            self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=5)
        self._pipe.close()

    def _send(self, command: str, payload) -> None:
        try:
            self._pipe.send((command, payload))
        except (OSError, EOFError) as exc:
            raise self._died() from exc

    def _receive(self):
        try:
            status, payload = self._pipe.recv()
        except (OSError, EOFError) as exc:
            raise self._died() from exc
        if status == "ok":
            return payload
        kind, message, trace = payload
        error = getattr(errors, kind, None)
        if isinstance(error, type) and issubclass(error, LibrobotError):
            raise error(message)
        raise EnvProcessError(f"{self.name} (child process) raised {kind}: {message}\n{trace}")

    def _died(self) -> EnvProcessError:
        self._process.join(timeout=1)
        return EnvProcessError(f"{self.name}'s child process died (exit code "
                               f"{self._process.exitcode}); rerun, or drop --async-envs to "
                               f"step the envs in this process")
