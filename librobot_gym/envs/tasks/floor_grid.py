"""A floor grid for planning on privileged state: occupancy from footprints, obstacle
inflation, and geodesic distance fields (multi-source Dijkstra on a 16-connected grid, so
paths may run at 26.6 deg steps as well as 45: lengths within ~3% of the straight line).

The tasks' experts plan on it (A* with a zero heuristic from every goal cell at once: one
field answers every start, so the expert re-plans for free each step) and the navigation
metrics take their shortest path lengths (SPL) from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

# (dy, dx) half of the 16-neighbourhood (the other half is the same edges reversed), each with
# the cells a move passes between (both must be free: no corner cutting).
_MOVES = (
    ((0, 1), ()), ((1, 0), ()),
    ((1, 1), ((0, 1), (1, 0))), ((1, -1), ((0, -1), (1, 0))),
    ((1, 2), ((0, 1), (1, 1))), ((2, 1), ((1, 0), (1, 1))),
    ((1, -2), ((0, -1), (1, -1))), ((2, -1), ((1, 0), (1, -1))),
)
NEIGHBOURS = tuple(m for (m, _) in _MOVES) + tuple((-dy, -dx) for (dy, dx), _ in _MOVES)


@dataclass(frozen=True)
class FloorGrid:
    """Square cells of `cell` m covering [x0, x0 + nx cell) x [y0, y0 + ny cell); arrays
    are indexed [iy, ix]."""

    x0: float
    y0: float
    cell: float
    nx: int
    ny: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.ny, self.nx

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """(X, Y): the world coordinates of every cell's centre."""
        xs = self.x0 + (np.arange(self.nx) + 0.5) * self.cell
        ys = self.y0 + (np.arange(self.ny) + 0.5) * self.cell
        return np.meshgrid(xs, ys)

    def index(self, x: float, y: float) -> tuple[int, int]:
        """The (iy, ix) of the cell holding (x, y), clamped to the grid."""
        ix = min(max(int((x - self.x0) / self.cell), 0), self.nx - 1)
        iy = min(max(int((y - self.y0) / self.cell), 0), self.ny - 1)
        return iy, ix

    def centre(self, iy: int, ix: int) -> tuple[float, float]:
        return self.x0 + (ix + 0.5) * self.cell, self.y0 + (iy + 0.5) * self.cell

    def at(self, field: np.ndarray, x: float, y: float) -> float:
        return float(field[self.index(x, y)])


def rectangle_mask(grid: FloorGrid, centre, half, yaw: float, grow: float = 0.0) -> np.ndarray:
    """Cells whose centre lies in the rectangle (half sizes along its own x, y; turned by
    `yaw`), grown by `grow` m on every side."""
    X, Y = grid.centres()
    c, s = math.cos(yaw), math.sin(yaw)
    dx, dy = X - centre[0], Y - centre[1]
    u, v = c * dx + s * dy, -s * dx + c * dy
    return (np.abs(u) <= half[0] + grow) & (np.abs(v) <= half[1] + grow)


def disc_mask(grid: FloorGrid, centre, radius: float) -> np.ndarray:
    X, Y = grid.centres()
    return np.hypot(X - centre[0], Y - centre[1]) <= radius


def clearance(grid: FloorGrid, occupied: np.ndarray) -> np.ndarray:
    """Distance (m) from every cell's centre to the nearest occupied cell."""
    return ndimage.distance_transform_edt(~occupied) * grid.cell


def distance_field(grid: FloorGrid, free: np.ndarray, sources: np.ndarray,
                   weight: np.ndarray | None = None) -> np.ndarray:
    """Path length (m) from every free cell to the nearest source cell through free cells
    (inf where none is reachable, and on occupied cells). With `weight` (>= 1 per cell), a
    move costs its length times the mean weight of its two cells: a cost field that keeps
    paths off the walls."""
    ny, nx = grid.shape
    ids = np.full(grid.shape, -1, dtype=np.int64)
    ids[free] = np.arange(int(free.sum()))
    rows, cols, costs = [], [], []
    padded = np.pad(free, 2, constant_values=False)
    for (dy, dx), between in _MOVES:
        ok = free & padded[2 + dy: 2 + dy + ny, 2 + dx: 2 + dx + nx]
        for by, bx in between:
            ok &= padded[2 + by: 2 + by + ny, 2 + bx: 2 + bx + nx]
        iy, ix = np.nonzero(ok)
        a, b = ids[iy, ix], ids[iy + dy, ix + dx]
        length = grid.cell * math.hypot(dy, dx)
        if weight is None:
            cost = np.full(len(a), length)
        else:
            cost = length * 0.5 * (weight[iy, ix] + weight[iy + dy, ix + dx])
        rows.append(a)
        cols.append(b)
        costs.append(cost)
    n = int(free.sum())
    graph = coo_matrix((np.concatenate(costs), (np.concatenate(rows), np.concatenate(cols))),
                       shape=(n, n)).tocsr()
    out = np.full(grid.shape, np.inf)
    starts = ids[sources & free]
    if n == 0 or starts.size == 0:
        return out
    out[free] = dijkstra(graph, directed=False, indices=starts, min_only=True)
    return out


def descend(grid: FloorGrid, field: np.ndarray, start: tuple[int, int],
            length: float) -> tuple[int, int]:
    """The cell reached by following `field` downhill from `start` for about `length` m
    (stopping at a source): the lookahead point of a pure-pursuit follower."""
    iy, ix = start
    travelled = 0.0
    ny, nx = grid.shape
    while travelled < length and field[iy, ix] > 0:
        best, step = field[iy, ix], None
        for dy, dx in NEIGHBOURS:
            y, x = iy + dy, ix + dx
            if 0 <= y < ny and 0 <= x < nx and field[y, x] < best:
                best, step = field[y, x], (y, x)
        if step is None:
            break
        travelled += grid.cell * math.hypot(step[0] - iy, step[1] - ix)
        iy, ix = step
    return iy, ix
