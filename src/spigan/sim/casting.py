"""Vectorised ray casting against a scene's `PrimitiveTable`: primary rays (one per pixel),
the surface frames and normals at their hits, and shadow rays towards a distant light.

Speed comes from screen-space culling: each primitive is intersected only with the rays of
the pixel rectangle its bounding box projects to; and from batching: the rays of all the
primitives of a kind are intersected in one go (`intersect_rows`), so a frame costs a few
numpy calls per kind and batch plus (covered pixels) arithmetic, whatever its number of
primitives.
"""

from __future__ import annotations

import numpy as np

from spigan.sim.geometry import (NEAR, Box, Camera, cross, intersect_box, intersect_cylinder,
                                 intersect_ellipsoid, intersect_ground)
from spigan.sim.table import BOX, CYLINDER, ELLIPSOID, GROUND, KINDS, PrimitiveTable

# Rays (primitive x pixel pairs) tested in one batch, at most, besides one primitive larger
# than that: bounds the batch's temporaries (some 40 float64 arrays of that length)
# whatever the frame size.
BATCH = 1 << 16
# Primitives whose screen rectangles have this many pixels or more are cast one by one: a
# numpy call's overhead (some microseconds) is small next to their arithmetic.
LARGE_RECT = 512
NO_HIT = np.iinfo(np.int64).max  # the rank of no primitive


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

    The result is `cast_in_order`'s, bit for bit, got with far fewer numpy calls: most
    primitives cover a few pixels, where a call's overhead outweighs its arithmetic, so all
    the small ones of a kind are intersected at once (their rectangles' pixels laid end to
    end); the few large ones (the ground, facades, near cars) one by one, as before.
    """
    rays = camera.rays(height, width)
    rects, nearest = _screen_rects(camera, table, height, width)
    order = np.argsort(nearest, kind="stable")
    rank = np.empty(len(table), dtype=np.int64)
    rank[order] = np.arange(len(table))
    depth = np.full((height, width), np.inf)
    best = np.full((height, width), NO_HIT)  # the front-to-back rank of the primitive hit
    sizes = np.maximum(rects[:, 1] - rects[:, 0], 0) * np.maximum(rects[:, 3] - rects[:, 2], 0)
    large = sizes >= LARGE_RECT
    o = tuple(camera.position)
    dx, dy, dz = (np.ascontiguousarray(rays[..., i]) for i in range(3))
    # The large ones first, front to back: every hit already in the z-buffer then has a
    # lower rank, so the loop's strict `t < z` is all the tie rule asks.
    for k in order[large[order]]:
        r0, r1, c0, c1 = rects[k]
        t = table.shapes[k].intersect(o, (dx[r0:r1, c0:c1], dy[r0:r1, c0:c1], dz[r0:r1, c0:c1]))
        if (t < nearest[k]).any():
            return cast_in_order(camera, table, height, width)  # see _fold_nearest
        z = depth[r0:r1, c0:c1]  # views: writes go to `depth` and `best`
        closer = t < z
        z[closer] = t[closer]
        best[r0:r1, c0:c1][closer] = rank[k]
    for rows in _batches(np.where(large, 0, sizes), table.kind):
        pixel, row = _rect_pixels(rects, rows, sizes, width)
        t = intersect_rows(table, row, o, (dx.ravel()[pixel], dy.ravel()[pixel], dz.ravel()[pixel]))
        if (t < nearest[row]).any():
            return cast_in_order(camera, table, height, width)
        _fold_nearest(depth.ravel(), best.ravel(), pixel, t, rank[row])
    hit = best != NO_HIT
    index = np.full((height, width), -1, dtype=np.int32)
    index[hit] = order[best[hit]]
    return depth, index, rays


def cast_in_order(camera: Camera, table: PrimitiveTable, height: int, width: int):
    """`cast_primary`, one primitive at a time, front to back: the definition of its result
    (the nearest hit; of equal ones, the first primitive in that order), and its fallback."""
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


def _fold_nearest(depth: np.ndarray, best: np.ndarray, pixel: np.ndarray, t: np.ndarray, rank: np.ndarray) -> None:
    """Folds hits (pixel, t, front-to-back rank of the primitive) into the flat z-buffer
    `depth` and each pixel's primitive rank `best`, in place: every pixel keeps its least
    (t, rank) pair, which is what `cast_in_order` keeps (its strict `t < z` lets the first
    of equal hits stay). A least pair does not depend on the order hits come in, so
    primitives and pixels may come in any order and batching. Nor does `cast_in_order`'s
    early z change it, as long as no hit is nearer than its primitive's nearest corner
    (then a skipped primitive had no hit in front of the pixels' final depth): callers
    check that bound, and on a hit that breaks it (it takes rounding, at a box's corner) ask
    `cast_in_order` itself."""
    keep = np.flatnonzero((t <= depth[pixel]) & (t < np.inf))
    pixel, t, rank = pixel[keep], t[keep], rank[keep]
    before = depth[pixel]
    np.minimum.at(depth, pixel, t)
    now = depth[pixel]
    best[pixel[now < before]] = NO_HIT  # a nearer hit beats the pixel's old primitive
    won = t == now
    np.minimum.at(best, pixel[won], rank[won])


def _batches(sizes: np.ndarray, kind: np.ndarray) -> list[np.ndarray]:
    """The rows with rays (sizes > 0), in batches of one kind and about BATCH rays each."""
    rows = np.flatnonzero(sizes > 0)
    rows = rows[np.argsort(kind[rows], kind="stable")]
    first = np.cumsum(sizes[rows]) - sizes[rows]  # each row's first ray, counting from 0
    cuts = (np.diff(kind[rows]) != 0) | (np.diff(first // BATCH) != 0)
    return np.split(rows, np.flatnonzero(cuts) + 1) if rows.size else []


def _spans(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spans of `lengths` laid end to end: for every element, its span and its offset in it."""
    span = np.repeat(np.arange(len(lengths)), lengths)
    return span, np.arange(len(span)) - (np.cumsum(lengths) - lengths)[span]


def _rect_pixels(rects: np.ndarray, rows: np.ndarray, sizes: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The flat pixel indices of the screen rectangles of `rows`, laid end to end, and the
    row each belongs to."""
    span, offset = _spans(sizes[rows])
    r0, c0 = rects[rows, 0][span], rects[rows, 2][span]
    w = (rects[rows, 3] - rects[rows, 2])[span]
    return (r0 + offset // w) * width + c0 + offset % w, rows[span]


def intersect_rows(table: PrimitiveTable, rows: np.ndarray, o: tuple, d: tuple) -> np.ndarray:
    """(n,) ray parameter of each ray's hit on its primitive `rows` (n,) of `table`, inf
    where it misses: what `table.shapes[row].intersect(o, d)` gives, bit for bit, with each
    kind's formula applied once to all its rays. `o` and `d` are ray components, each a
    scalar (shared by all rays) or an (n,) array."""
    t = np.full(len(rows), np.inf)
    kind = table.kind[rows]
    counts = np.bincount(kind, minlength=len(KINDS))
    for code in np.flatnonzero(counts):
        sel = slice(None) if counts[code] == len(rows) else np.flatnonzero(kind == code)
        r, ro, rd = rows[sel], _take(o, sel), _take(d, sel)
        if code == GROUND:
            t[sel] = intersect_ground(ro, rd)
            continue
        lo, ld = _in_frames(table, r, ro, rd)
        if code == BOX:
            t[sel] = intersect_box(lo, ld, table.half[r].T)
        elif code == CYLINDER:
            axis = table.axis[r]
            t[sel] = intersect_cylinder(_across_along(lo, axis), _across_along(ld, axis), table.radius2[r],
                                        table.half_length[r])
        else:
            t[sel] = intersect_ellipsoid(lo, ld, table.radii[r].T)
    return t


def _take(components: tuple, sel) -> tuple:
    return tuple(c if np.ndim(c) == 0 else c[sel] for c in components)


def _in_frames(table: PrimitiveTable, rows: np.ndarray, o: tuple, d: tuple) -> tuple[tuple, tuple]:
    """Ray components in the frames of primitives `rows`, computed as each primitive's
    `_local_rays` computes them."""
    center = table.center[rows]
    ox, oy, oz = o[0] - center[:, 0], o[1] - center[:, 1], o[2] - center[:, 2]
    dx, dy, dz = d
    # `_local_rays` turns the rays of yawed primitives only (turning by yaw 0 could flip
    # the sign of a zero, and 1 / dx with it). Yawed ones are those with sin != 0: the sine
    # of a non-zero double is never exactly 0.
    yawed = np.flatnonzero(table.sin[rows] != 0)
    if yawed.size:
        c, s = table.cos[rows[yawed]], table.sin[rows[yawed]]
        dx, dz = (np.array(np.broadcast_to(v, ox.shape)) for v in (dx, dz))  # own copies, to write
        for x, z in ((ox, oz), (dx, dz)):
            xy, zy = x[yawed], z[yawed]
            x[yawed], z[yawed] = c * xy - s * zy, s * xy + c * zy
    return (ox, oy, oz), (dx, dy, dz)


def _across_along(v: tuple, axis: np.ndarray) -> tuple:
    """Components of cylinder rays in the order their formula takes them: (across, across,
    along the cylinder's axis), as Cylinder.intersect orders them (ACROSS) for its axis."""
    x, y, z = v
    return np.where(axis == 0, y, x), np.where(axis == 2, y, z), np.where(axis == 0, x, np.where(axis == 1, y, z))


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
    a = cross(direction, (0.0, 0.0, 1.0))
    if np.linalg.norm(a) < 1e-6:
        a = cross(direction, (1.0, 0.0, 0.0))
    a /= np.linalg.norm(a)
    return a, cross(direction, a)


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
