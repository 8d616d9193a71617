"""Typed errors: each says what was wrong, the value seen, and what to do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class LibrobotError(Exception):
    """Base class of every error librobot-gym raises on purpose."""


class InvalidActionError(LibrobotError, ValueError):
    """An action that cannot be applied: wrong shape, dtype, NaN or inf."""


class InvalidObservationError(LibrobotError, ValueError):
    """An observation a policy cannot act on: a NaN or inf in a field it reads."""


class ConfigError(LibrobotError, ValueError):
    """An unknown or inconsistent setting: obs_mode, control_mode, camera size, task option."""


class PolicyMismatchError(LibrobotError, ValueError):
    """A policy's card does not fit the env it is asked to act in. `mismatches` holds each
    misfit (`policies.base.Mismatch`: the card field, both values and the env setting that
    fixes it), so a caller can say the fix in its own terms (a suite card's field rather than
    a command-line option)."""

    def __init__(self, message: str, mismatches: Sequence[Any] = ()):
        super().__init__(message)
        self.mismatches = tuple(mismatches)


class ObservationError(InvalidObservationError):
    """An observation that does not fit a policy's card (keys, shapes, dtypes, batch size)."""
