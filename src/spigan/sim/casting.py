"""Vectorised ray casting against a scene's `PrimitiveTable`: primary rays (one per pixel),
the surface frames and normals at their hits, and shadow rays towards a distant light.

Speed comes from screen-space culling: each primitive is intersected only with the rays of
the pixel rectangle its bounding box projects to, so a frame costs roughly (number of
visible primitives) x (small numpy calls) + (covered pixels) arithmetic.
"""

from __future__ import annotations

import numpy as np

from spigan.sim.geometry import NEAR, Box, Camera
from spigan.sim.table import BOX, CYLINDER, ELLIPSOID, GROUND, PrimitiveTable


def _screen_rects(camera: Camera, table: PrimitiveTable, height: int, width: int):
    """Pixel rectangles [row0, row1, col0, col1) covering each primitive, (N, 4): empty if
    it is off-screen or behind the camera, the whole frame if it straddles the near plane;
    and (N,) a lower bound on each primitive's depth (its nearest corner; -inf for the ground)."""
    rects = np.zeros((len(table), 4), dtype=np.int64)
    nearest = np.full(len(table), -np.inf)
    bounded = np.flatnonzero(table.kind != GROUND)
    rects[table.kind == GROUND] = (0, height, 0, width)
    if not bounded.size:
        return rects, nearest
    col, row, depth = camera.project(table.corners[bounded], height, width)
    behind = (depth < NEAR).all(axis=1)
    straddle = (depth < NEAR).any(axis=1) & ~behind
    with np.errstate(invalid="ignore"):
        r0 = np.floor(row.min(axis=1)) - 1
        r1 = np.ceil(row.max(axis=1)) + 2
        c0 = np.floor(col.min(axis=1)) - 1
        c1 = np.ceil(col.max(axis=1)) + 2
    box = np.stack([r0, r1, c0, c1], axis=1)
    box[straddle] = (0, height, 0, width)
    box[behind] = 0
    box[:, :2] = np.clip(box[:, :2], 0, height)
    box[:, 2:] = np.clip(box[:, 2:], 0, width)
    rects[bounded] = box.astype(np.int64)
    # The z-depth is linear in position, so over a box its minimum is at a corner.
    nearest[bounded] = depth.min(axis=1)
    return rects, nearest


def cast_primary(camera: Camera, table: PrimitiveTable, height: int, width: int):
    """Casts one ray per pixel.

    Returns:
        depth: (H, W) z-buffer depth, inf where nothing is hit (sky).
        index: (H, W) int32 row of `table` hit, -1 for sky.
        rays: (H, W, 3) the ray directions (d . forward = 1).
    """
    rays = camera.rays(height, width)
    origin = camera.position
    depth = np.full((height, width), np.inf)
    index = np.full((height, width), -1, dtype=np.int32)
    rects, nearest = _screen_rects(camera, table, height, width)
    dx, dy, dz = (np.ascontiguousarray(rays[..., i]) for i in range(3))
    o = tuple(origin)
    # Front to back, so that a primitive lying entirely behind what its rectangle already
    # shows can be skipped with one reduction instead of a full intersection (early z).
    for k in np.argsort(nearest, kind="stable"):
        r0, r1, c0, c1 = rects[k]
        if r1 <= r0 or c1 <= c0:
            continue
        z = depth[r0:r1, c0:c1]  # a view: writes go to `depth`
        if nearest[k] > z.max():
            continue
        t = table.shapes[k].intersect(o, (dx[r0:r1, c0:c1], dy[r0:r1, c0:c1], dz[r0:r1, c0:c1]))
        closer = t < z
        z[closer] = t[closer]
        index[r0:r1, c0:c1][closer] = k
    return depth, index, rays


def surface_frames(table: PrimitiveTable, pid: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For surface points (n, 3) on rows `pid` (n,) of `table`: their coordinates in each
    primitive's own frame and the unit world normals there (n, 3 each), computed for all
    primitives of a kind at once."""
    cos, sin, rel = table.cos[pid], table.sin[pid], points - table.center[pid]
    local = np.stack([cos * rel[:, 0] - sin * rel[:, 2], rel[:, 1], sin * rel[:, 0] + cos * rel[:, 2]], axis=1)
    normal = np.zeros_like(local)
    kind = table.kind[pid]
    sel = np.flatnonzero(kind == BOX)
    if sel.size:
        normal[sel] = Box._normal_of(local[sel] / table.half[pid[sel]])
    sel = np.flatnonzero(kind == CYLINDER)
    if sel.size:
        normal[sel] = _cylinder_normals(local[sel], table.axis[pid[sel]], table.half_length[pid[sel]])
    sel = np.flatnonzero(kind == ELLIPSOID)
    if sel.size:
        n = local[sel] / table.radii[pid[sel]] ** 2
        normal[sel] = n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)
    normal[kind == GROUND, 1] = 1.0
    world = np.stack([cos * normal[:, 0] + sin * normal[:, 2], normal[:, 1], -sin * normal[:, 0] + cos * normal[:, 2]],
                     axis=1)
    return local, world


def _cylinder_normals(q: np.ndarray, axis: np.ndarray, half_length: np.ndarray) -> np.ndarray:
    """Unit normals, in the cylinders' frames, at points `q` on their sides or caps."""
    along = np.take_along_axis(q, axis[:, None], 1)[:, 0]
    on_cap = np.abs(along) >= half_length - 1e-6
    n = q.copy()
    np.put_along_axis(n, axis[:, None], 0.0, 1)
    n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)
    cap = np.zeros_like(q)
    np.put_along_axis(cap, axis[:, None], np.sign(along)[:, None], 1)
    return np.where(on_cap[:, None], cap, n)


def light_basis(direction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors perpendicular to `direction` (and to each other)."""
    a = np.cross(direction, [0.0, 0.0, 1.0])
    if np.linalg.norm(a) < 1e-6:
        a = np.cross(direction, [1.0, 0.0, 0.0])
    a /= np.linalg.norm(a)
    return a, np.cross(direction, a)


def cast_shadows(points: np.ndarray, to_light: np.ndarray, table: PrimitiveTable, casters: np.ndarray) -> np.ndarray:
    """For points (n, 3) and a unit direction towards a distant light, returns a bool (n,)
    mask of points from which some caster (rows `casters` of `table`, none of them the
    ground) blocks the light.

    Culling in light space: points are sorted along one axis perpendicular to the light, and
    each caster only tests the points whose projection falls inside its own projected box.
    """
    shadowed = np.zeros(len(points), dtype=bool)
    if not len(points) or not len(casters):
        return shadowed
    a, b = light_basis(to_light)
    order = np.argsort(points @ a, kind="stable")
    points = points[order]  # everything below works in this order, so a caster's points are a slice
    pa, pb, pl = points @ a, points @ b, points @ to_light
    corners = table.corners[casters]  # (m, 8, 3)
    ca, cb = corners @ a, corners @ b
    # Along the light: a caster can only block points that lie below its highest corner.
    reach = (corners @ to_light).max(axis=1)
    # Casters whose light-space box misses every point are dropped at once, not one by one.
    b_lo, b_hi = cb.min(axis=1), cb.max(axis=1)
    los, his = np.searchsorted(pa, ca.min(axis=1)), np.searchsorted(pa, ca.max(axis=1))
    active = (his > los) & (b_hi >= pb.min()) & (b_lo <= pb.max()) & (reach > pl.min())
    blocked = np.zeros(len(points), dtype=bool)
    for k in np.flatnonzero(active):
        lo, hi = los[k], his[k]
        cand = lo + np.flatnonzero((pb[lo:hi] >= b_lo[k]) & (pb[lo:hi] <= b_hi[k]) & (pl[lo:hi] < reach[k])
                                   & ~blocked[lo:hi])
        if cand.size:
            p = points[cand]
            t = table.shapes[casters[k]].intersect((p[:, 0], p[:, 1], p[:, 2]), tuple(to_light))
            blocked[cand[np.isfinite(t)]] = True
    shadowed[order] = blocked
    return shadowed
