"""Loading cycles of a bucket machine, counted from the material model's readings: shared by
every task where a bucket carries material from a pile into a container (the excavator's
DigDump into the truck, the wheel loader's LoadHauler into the hauler's body).

A cycle starts when the bucket holds more than 20% of its rated load and ends when it is
emptied (below 5%) with the container's delivered mass risen: its fill factor is the cycle's
peak payload over the rated load and its end time closes the cycle. Emptying it anywhere else
(spilling) starts over without counting a cycle. The ledger also keeps the least tip-over
margin seen, and turns all of it into the heavy-machine metrics the boards show.
"""

from __future__ import annotations

import math

import numpy as np

LOADED = 0.2  # of the rated load: the bucket carries a load
EMPTIED = 0.05  # of the rated load: the bucket was emptied


class LoadingCycles:
    """Cycle bookkeeping over one episode; `update` once per control step."""

    def __init__(self, rated_kg: float):
        self.rated_kg = float(rated_kg)
        self.reset()

    def reset(self) -> None:
        self.peak = 0.0  # the current cycle's largest payload (kg)
        self.loaded = False
        self.delivered_mark = 0.0  # delivered mass when the last cycle ended (kg)
        self.fills: list[float] = []
        self.ends: list[float] = []  # sim time at each cycle's end (s)
        self.min_margin = math.inf

    def update(self, time: float, payload: float, delivered: float, margin: float) -> None:
        self.min_margin = min(self.min_margin, margin)
        self.peak = max(self.peak, payload)
        if payload > LOADED * self.rated_kg:
            self.loaded = True
        elif self.loaded and payload < EMPTIED * self.rated_kg:  # the bucket was emptied
            if delivered > self.delivered_mark:  # into the container: a cycle ends
                self.fills.append(self.peak / self.rated_kg)
                self.ends.append(time)
            self.delivered_mark, self.loaded, self.peak = delivered, False, payload

    def metrics(self, time: float, payload: float, delivered: float, target_kg: float,
                spilled_kg: float, energy_j: float) -> dict[str, float]:
        """Fill factor, cycle time, tonnes delivered and per hour, spillage, energy per tonne,
        least tip-over margin, payload now and cycles counted."""
        hours = max(time, 1e-9) / 3600.0
        ends = [0.0] + self.ends
        cycles = np.diff(ends) if len(ends) > 1 else np.array([])
        tonnes = float(delivered) / 1000.0
        return {
            "fill_factor": float(np.mean(self.fills)) if self.fills
            else float(self.peak / self.rated_kg),
            "cycle_time_s": float(cycles.mean()) if len(cycles) else 0.0,
            "delivered_t": tonnes,
            "target_t": target_kg / 1000.0,
            "tonnes_per_hour": tonnes / hours,
            "spillage_kg": float(spilled_kg),
            "energy_j_per_tonne": energy_j / tonnes if tonnes > 0.01 else 0.0,
            "min_tip_margin_m": self.min_margin if math.isfinite(self.min_margin) else 0.0,
            "payload_t": float(payload) / 1000.0,
            "cycles": float(len(self.fills)),
        }
