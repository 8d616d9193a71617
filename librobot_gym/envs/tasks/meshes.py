"""Meshes written in code for the object set: solids of revolution (cups, bowls, plates) and
tube arcs (a mug's handle). Pure numpy; the result is a `scene.Mesh` any simulator builds.

A closed profile revolved about z gives a watertight solid; faces wind counter-clockwise seen
from outside, so renderers light the right side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from librobot_gym.scene import Mesh


def revolve(name: str, profile: Sequence[tuple[float, float]], segments: int = 24) -> Mesh:
    """The solid swept by a profile of (radius, z) points turned about the z axis.

    The profile runs from a point on the axis (radius 0) round the outside of the section and
    back to the axis, e.g. a bowl: bottom centre, out along the foot, up the outer wall, over
    the rim, down the inner wall to the inner bottom centre. Points on the axis become single
    vertices (poles), so the surface is closed.
    """
    points = [(float(r), float(z)) for r, z in profile]
    if len(points) < 3 or points[0][0] != 0.0 or points[-1][0] != 0.0:
        raise ValueError(f"mesh {name!r}: a profile starts and ends on the axis (radius 0)")
    angles = np.linspace(0.0, 2.0 * math.pi, segments, endpoint=False)
    vertices: list[tuple[float, float, float]] = []
    rings: list[list[int]] = []  # vertex index per segment, for each profile point
    for r, z in points:
        if r == 0.0:
            vertices.append((0.0, 0.0, z))
            rings.append([len(vertices) - 1] * segments)
        else:
            start = len(vertices)
            vertices.extend((r * math.cos(a), r * math.sin(a), z) for a in angles)
            rings.append(list(range(start, start + segments)))
    faces: list[tuple[int, int, int]] = []
    for lower, upper in zip(rings, rings[1:], strict=False):
        for k in range(segments):
            a, b = lower[k], lower[(k + 1) % segments]
            c, d = upper[(k + 1) % segments], upper[k]
            for tri in ((a, d, c), (a, c, b)):
                if len(set(tri)) == 3:  # a pole's triangles have two corners in one vertex
                    faces.append(tri)
    return _outward(name, vertices, faces)


def tube_arc(name: str, centre_radius: float, tube_radius: float, start: float, stop: float,
             segments: int = 10, sides: int = 8) -> Mesh:
    """A round tube bent along an arc in the x-z plane (a mug's handle): the arc of radius
    `centre_radius` about the origin from angle `start` to `stop` (rad, from +x towards +z),
    closed with flat caps."""
    vertices: list[tuple[float, float, float]] = []
    for i in range(segments + 1):
        t = start + (stop - start) * i / segments
        centre = np.array([centre_radius * math.cos(t), 0.0, centre_radius * math.sin(t)])
        radial = np.array([math.cos(t), 0.0, math.sin(t)])
        for j in range(sides):
            phi = 2.0 * math.pi * j / sides
            offset = tube_radius * (math.cos(phi) * radial + math.sin(phi) * np.array([0, 1, 0]))
            vertices.append(tuple(centre + offset))
    faces: list[tuple[int, int, int]] = []
    for i in range(segments):
        for j in range(sides):
            a, b = i * sides + j, i * sides + (j + 1) % sides
            c, d = b + sides, a + sides
            faces += [(a, b, c), (a, c, d)]
    for ring, flip in ((0, False), (segments, True)):  # caps: a fan about each end's centre
        centre_index = len(vertices)
        vertices.append(tuple(np.mean(vertices[ring * sides:(ring + 1) * sides], axis=0)))
        for j in range(sides):
            a, b = ring * sides + j, ring * sides + (j + 1) % sides
            faces.append((centre_index, a, b) if flip else (centre_index, b, a))
    return _outward(name, vertices, faces)


def signed_volume(mesh: Mesh) -> float:
    """The enclosed volume (m^3): positive when faces wind counter-clockwise from outside."""
    v = np.reshape(mesh.vertices, (-1, 3))
    f = np.reshape(mesh.faces, (-1, 3))
    return float(np.einsum("ij,ij->i", v[f[:, 0]], np.cross(v[f[:, 1]], v[f[:, 2]])).sum() / 6)


def _outward(name: str, vertices, faces) -> Mesh:
    """The mesh with its faces wound outwards (which way a profile runs decides the winding of
    the faces built from it)."""
    mesh = _mesh(name, vertices, faces)
    return mesh if signed_volume(mesh) > 0 else _mesh(name, vertices, [f[::-1] for f in faces])


def _mesh(name: str, vertices, faces) -> Mesh:
    flat_v = tuple(round(float(x), 6) for vertex in vertices for x in vertex)
    flat_f = tuple(int(i) for face in faces for i in face)
    return Mesh(name, flat_v, flat_f)
