"""Cameras, analytic primitives and vectorised ray casting.

World frame: x to the right of the street's axis, y up, z along the street; metres.
Rays are generated with a forward component of exactly 1 (d . forward = 1), so the ray
parameter t of a hit *is* its z-buffer depth; no normalisation is needed anywhere.

Speed comes from screen-space culling: each primitive is intersected only with the rays of
the pixel rectangle its bounding box projects to, so a frame costs roughly (number of
visible primitives) x (small numpy calls) + (covered pixels) arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

EPS = 1e-4  # minimum ray parameter: avoids a surface shadowing itself
NEAR = 0.05  # camera near plane (m) used for culling


@dataclass(frozen=True)
class Camera:
    """Pinhole camera. Angles in radians; yaw 0 looks along +z, positive pitch looks up,
    positive roll turns the image clockwise (the camera's right side dips). A `mirror`
    camera sees the mirror image of the world (left and right swapped): the same street
    with traffic on the other side."""

    x: float
    y: float  # height above the road (m)
    z: float
    yaw: float
    pitch: float
    hfov: float  # horizontal field of view
    roll: float = 0.0
    mirror: bool = False

    @property
    def position(self) -> np.ndarray:
        return np.array([self.x, self.y, self.z])

    def basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unit (right, up, forward) vectors in world coordinates."""
        cy, sy, cp, sp = math.cos(self.yaw), math.sin(self.yaw), math.cos(self.pitch), math.sin(self.pitch)
        forward = np.array([sy * cp, sp, cy * cp])
        right = np.array([cy, 0.0, -sy])
        up = np.cross(forward, right)
        if self.roll:
            cr, sr = math.cos(self.roll), math.sin(self.roll)
            right, up = cr * right - sr * up, sr * right + cr * up
        return (-right if self.mirror else right), up, forward

    def focal(self, width: int) -> float:
        return 0.5 * width / math.tan(0.5 * self.hfov)

    def rays(self, height: int, width: int) -> np.ndarray:
        """(H, W, 3) ray directions through pixel centres, with d . forward = 1."""
        right, up, forward = self.basis()
        f = self.focal(width)
        u = (np.arange(width) + 0.5 - 0.5 * width) / f  # (W,)
        v = -(np.arange(height) + 0.5 - 0.5 * height) / f  # (H,)
        return forward + u[None, :, None] * right + v[:, None, None] * up

    def project(self, points: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """World points (..., 3) -> (column, row, depth) in pixel coordinates."""
        right, up, forward = self.basis()
        rel = points - self.position
        depth = rel @ forward
        f = self.focal(width)
        with np.errstate(divide="ignore", invalid="ignore"):
            col = 0.5 * width + f * (rel @ right) / depth - 0.5
            row = 0.5 * height - f * (rel @ up) / depth - 0.5
        return col, row, depth

    def as_dict(self) -> dict:
        return {k: float(getattr(self, k)) for k in ("x", "y", "z", "yaw", "pitch", "hfov", "roll", "mirror")}


# ---------------------------------------------------------------------------------------
# Primitives. Each has: intersect(o, d) -> t (inf where missed), normal(p), local(p)
# (coordinates in its own frame, used for textures), and corners() for culling.
# intersect() works on components, the hot path: `o` = (ox, oy, oz) and `d` = (dx, dy, dz),
# each a scalar or an array (all broadcastable). normal() and local() take (n, 3) points.
# ---------------------------------------------------------------------------------------

Components = tuple  # (x, y, z), each a float or an ndarray


_SIGNS = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=np.float64)


@dataclass
class Primitive:
    """Common attributes. `label` is a 16-class index; `material` names the photo texture;
    `color` is the object's base colour in [0, 1] (already jittered per object);
    `style` carries per-object texture parameters (window grids, lamp colours, ...)."""

    label: int
    material: str
    color: tuple[float, float, float]
    object_id: int = 0
    style: dict = field(default_factory=dict)
    center: np.ndarray = field(default_factory=lambda: np.zeros(3))
    yaw: float = 0.0

    def __post_init__(self):
        self.center = np.asarray(self.center, dtype=np.float64)
        self._cos, self._sin = math.cos(self.yaw), math.sin(self.yaw)
        # world = R local + center; row vectors: world = local @ R.T + center
        self._R = np.array([[self._cos, 0.0, self._sin], [0.0, 1.0, 0.0], [-self._sin, 0.0, self._cos]])
        self._corners: np.ndarray | None = None

    def to_local(self, p: np.ndarray) -> np.ndarray:
        return (p - self.center) @ self._R if self.yaw else p - self.center

    def dir_to_world(self, d: np.ndarray) -> np.ndarray:
        return d @ self._R.T if self.yaw else d

    def local(self, p: np.ndarray) -> np.ndarray:
        return self.to_local(p)

    def normal(self, p: np.ndarray) -> np.ndarray:
        """Unit world normals at surface points (n, 3)."""
        return self.dir_to_world(self.local_normal(self.to_local(p)))

    def local_normal(self, q: np.ndarray) -> np.ndarray:
        """Unit normals, in the primitive's frame, at surface points given in that frame."""
        raise NotImplementedError

    def _local_rays(self, o: Components, d: Components):
        """Ray origin and direction components in the primitive's frame."""
        ox, oy, oz = o[0] - self.center[0], o[1] - self.center[1], o[2] - self.center[2]
        dx, dy, dz = d
        if self.yaw:
            c, s = self._cos, self._sin
            ox, oz = c * ox - s * oz, s * ox + c * oz
            dx, dz = c * dx - s * dz, s * dx + c * dz
        return (ox, oy, oz), (dx, dy, dz)

    def corners(self) -> np.ndarray:
        """(8, 3) world corners of a box bounding the primitive (cached)."""
        if self._corners is None:
            self._corners = (_SIGNS * self.extent()) @ self._R.T + self.center
        return self._corners

    def extent(self) -> np.ndarray:
        raise NotImplementedError


@dataclass
class Box(Primitive):
    """Box of half extents `half` (local x, y, z), rotated by `yaw` about y."""

    half: np.ndarray = field(default_factory=lambda: np.ones(3))

    def __post_init__(self):
        super().__post_init__()
        self.half = np.asarray(self.half, dtype=np.float64)

    def intersect(self, o: Components, d: Components) -> np.ndarray:
        (ox, oy, oz), (dx, dy, dz) = self._local_rays(o, d)
        hx, hy, hz = self.half
        with np.errstate(divide="ignore", invalid="ignore"):
            ix, iy, iz = 1.0 / dx, 1.0 / dy, 1.0 / dz
            ax, bx = (-hx - ox) * ix, (hx - ox) * ix
            ay, by = (-hy - oy) * iy, (hy - oy) * iy
            az, bz = (-hz - oz) * iz, (hz - oz) * iz
            tmin = np.maximum(np.maximum(np.minimum(ax, bx), np.minimum(ay, by)), np.minimum(az, bz))
            tmax = np.minimum(np.minimum(np.maximum(ax, bx), np.maximum(ay, by)), np.maximum(az, bz))
            return np.where((tmax >= tmin) & (tmin > EPS), tmin, np.inf)

    @staticmethod
    def local_normals(q: np.ndarray, pid: np.ndarray, primitives: list) -> np.ndarray:
        """`local_normal` for points on many boxes at once (`pid` indexes `primitives`)."""
        half = np.array([getattr(p, "half", np.ones(3)) for p in primitives])[pid]
        return Box._normal_of(q / half)

    @staticmethod
    def _normal_of(q: np.ndarray) -> np.ndarray:
        """The normal of the face nearest to each point, in coordinates scaled to the unit cube."""
        axis = np.abs(q).argmax(axis=-1)
        n = np.zeros_like(q)
        np.put_along_axis(n, axis[..., None], np.sign(np.take_along_axis(q, axis[..., None], -1)), -1)
        return n

    def local_normal(self, q: np.ndarray) -> np.ndarray:
        return Box._normal_of(q / self.half)

    def extent(self) -> np.ndarray:
        return self.half


@dataclass
class Cylinder(Primitive):
    """Capped cylinder of `radius` and half length `half_length` along local `axis` (0, 1, 2)."""

    radius: float = 0.1
    half_length: float = 1.0
    axis: int = 1

    def intersect(self, o: Components, d: Components) -> np.ndarray:
        ol, dl = self._local_rays(o, d)
        a_idx, b_idx = [i for i in range(3) if i != self.axis]
        oa, ob, oh = ol[a_idx], ol[b_idx], ol[self.axis]
        da, db, dh = dl[a_idx], dl[b_idx], dl[self.axis]
        r2, hl = self.radius**2, self.half_length
        with np.errstate(divide="ignore", invalid="ignore"):
            # side: |(o + t d)_ab|^2 = r^2, nearer root, within the length
            qa = da * da + db * db
            qb = oa * da + ob * db
            disc = qb * qb - qa * (oa * oa + ob * ob - r2)
            t_side = (-qb - np.sqrt(disc)) / qa
            side_ok = (disc >= 0) & (t_side > EPS) & (np.abs(oh + t_side * dh) <= hl)
            t = np.where(side_ok, t_side, np.inf)
            # caps: the end disc facing the ray
            t_cap = (-np.sign(dh) * hl - oh) / dh
            ca, cb = oa + t_cap * da, ob + t_cap * db
            cap_ok = (t_cap > EPS) & (ca * ca + cb * cb <= r2)
            return np.minimum(t, np.where(cap_ok, t_cap, np.inf))

    @staticmethod
    def local_normals(q: np.ndarray, pid: np.ndarray, primitives: list) -> np.ndarray:
        """`local_normal` for points on many cylinders at once (`pid` indexes `primitives`)."""
        axis = np.array([getattr(p, "axis", 1) for p in primitives])[pid]
        half_length = np.array([getattr(p, "half_length", 1.0) for p in primitives])[pid]
        along = np.take_along_axis(q, axis[:, None], 1)[:, 0]
        on_cap = np.abs(along) >= half_length - 1e-6
        n = q.copy()
        np.put_along_axis(n, axis[:, None], 0.0, 1)
        n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)
        cap = np.zeros_like(q)
        np.put_along_axis(cap, axis[:, None], np.sign(along)[:, None], 1)
        return np.where(on_cap[:, None], cap, n)

    def local_normal(self, q: np.ndarray) -> np.ndarray:
        on_cap = np.abs(q[..., self.axis]) >= self.half_length - 1e-6
        n = q.copy()
        n[..., self.axis] = 0.0
        n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)
        cap = np.zeros_like(q)
        cap[..., self.axis] = np.sign(q[..., self.axis])
        return np.where(on_cap[..., None], cap, n)

    def extent(self) -> np.ndarray:
        half = np.full(3, float(self.radius))
        half[self.axis] = self.half_length
        return half


@dataclass
class Ellipsoid(Primitive):
    """Ellipsoid of semi-axes `radii` (local x, y, z); a sphere when all are equal."""

    radii: np.ndarray = field(default_factory=lambda: np.ones(3))

    def __post_init__(self):
        super().__post_init__()
        self.radii = np.asarray(self.radii, dtype=np.float64)

    def intersect(self, o: Components, d: Components) -> np.ndarray:
        (ox, oy, oz), (dx, dy, dz) = self._local_rays(o, d)
        rx, ry, rz = self.radii
        ox, oy, oz, dx, dy, dz = ox / rx, oy / ry, oz / rz, dx / rx, dy / ry, dz / rz
        qa = dx * dx + dy * dy + dz * dz
        qb = ox * dx + oy * dy + oz * dz
        disc = qb * qb - qa * (ox * ox + oy * oy + oz * oz - 1.0)
        with np.errstate(invalid="ignore"):
            t = (-qb - np.sqrt(disc)) / qa
            return np.where((disc >= 0) & (t > EPS), t, np.inf)

    @staticmethod
    def local_normals(q: np.ndarray, pid: np.ndarray, primitives: list) -> np.ndarray:
        """`local_normal` for points on many ellipsoids at once (`pid` indexes `primitives`)."""
        n = q / np.array([getattr(p, "radii", np.ones(3)) for p in primitives])[pid] ** 2
        return n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)

    def local_normal(self, q: np.ndarray) -> np.ndarray:
        n = q / self.radii**2
        return n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)

    def extent(self) -> np.ndarray:
        return self.radii


@dataclass
class Ground(Primitive):
    """The infinite plane y = 0 (the road surface); always tested against every ray."""

    def intersect(self, o: Components, d: Components) -> np.ndarray:
        oy, dy = np.broadcast_arrays(o[1], d[1])
        with np.errstate(divide="ignore", invalid="ignore"):
            t = -oy / dy
            return np.where((dy < 0) & (t > EPS), t, np.inf)

    def local_normal(self, q: np.ndarray) -> np.ndarray:
        n = np.zeros_like(q)
        n[..., 1] = 1.0
        return n

    def to_local(self, p: np.ndarray) -> np.ndarray:
        return p


def surface_frames(primitives: list[Primitive], pid: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For surface points (n, 3) on primitives `pid` (n,): their coordinates in each
    primitive's own frame and the unit world normals there (n, 3 each); what `local()` and
    `normal()` give point by point, computed for all primitives of a kind at once."""
    per = {"cos": np.array([p._cos for p in primitives]), "sin": np.array([p._sin for p in primitives]),
           "center": np.array([p.center for p in primitives]).reshape(-1, 3)}
    cos, sin, rel = per["cos"][pid], per["sin"][pid], points - per["center"][pid]
    local = np.stack([cos * rel[:, 0] - sin * rel[:, 2], rel[:, 1], sin * rel[:, 0] + cos * rel[:, 2]], axis=1)
    normal = np.zeros_like(local)
    kind = np.array([type(p).__name__ for p in primitives])[pid]
    for name, shape in (("Box", Box), ("Cylinder", Cylinder), ("Ellipsoid", Ellipsoid)):
        sel = np.flatnonzero(kind == name)
        if sel.size:
            normal[sel] = shape.local_normals(local[sel], pid[sel], primitives)
    normal[kind == "Ground", 1] = 1.0
    world = np.stack([cos * normal[:, 0] + sin * normal[:, 2], normal[:, 1], -sin * normal[:, 0] + cos * normal[:, 2]],
                     axis=1)
    return local, world


def corners_of(primitives: list[Primitive]) -> np.ndarray:
    """(N, 8, 3) world corners of the bounding boxes of bounded primitives, computed for all
    of them at once (and cached on each, as `corners()` would)."""
    if not primitives:
        return np.zeros((0, 8, 3))
    missing = [p for p in primitives if p._corners is None]
    if missing:
        extent = np.array([p.extent() for p in missing])  # (m, 3)
        cos = np.array([p._cos for p in missing])[:, None]
        sin = np.array([p._sin for p in missing])[:, None]
        center = np.array([p.center for p in missing])
        local = _SIGNS[None] * extent[:, None]  # (m, 8, 3)
        world = np.stack([cos * local[..., 0] + sin * local[..., 2], local[..., 1],
                          -sin * local[..., 0] + cos * local[..., 2]], axis=-1) + center[:, None]
        for p, c in zip(missing, world):
            p._corners = c
    return np.stack([p._corners for p in primitives])


# ---------------------------------------------------------------------------------------
# Casting
# ---------------------------------------------------------------------------------------


def _screen_rects(camera: Camera, primitives: list[Primitive], height: int, width: int):
    """Pixel rectangles [row0, row1, col0, col1) covering each primitive, (N, 4): empty if
    it is off-screen or behind the camera, the whole frame if it straddles the near plane;
    and (N,) a lower bound on each primitive's depth (its nearest corner; -inf for the ground)."""
    rects = np.zeros((len(primitives), 4), dtype=np.int64)
    nearest = np.full(len(primitives), -np.inf)
    bounded = [k for k, p in enumerate(primitives) if not isinstance(p, Ground)]
    rects[[k for k, p in enumerate(primitives) if isinstance(p, Ground)]] = (0, height, 0, width)
    if not bounded:
        return rects, nearest
    corners = corners_of([primitives[k] for k in bounded])  # (n, 8, 3)
    col, row, depth = camera.project(corners, height, width)
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


def cast_primary(camera: Camera, primitives: list[Primitive], height: int, width: int):
    """Casts one ray per pixel.

    Returns:
        depth: (H, W) z-buffer depth, inf where nothing is hit (sky).
        index: (H, W) int32 index into `primitives`, -1 for sky.
        rays: (H, W, 3) the ray directions (d . forward = 1).
    """
    rays = camera.rays(height, width)
    origin = camera.position
    depth = np.full((height, width), np.inf)
    index = np.full((height, width), -1, dtype=np.int32)
    rects, nearest = _screen_rects(camera, primitives, height, width)
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
        t = primitives[k].intersect(o, (dx[r0:r1, c0:c1], dy[r0:r1, c0:c1], dz[r0:r1, c0:c1]))
        closer = t < z
        z[closer] = t[closer]
        index[r0:r1, c0:c1][closer] = k
    return depth, index, rays


def light_basis(direction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors perpendicular to `direction` (and to each other)."""
    a = np.cross(direction, [0.0, 0.0, 1.0])
    if np.linalg.norm(a) < 1e-6:
        a = np.cross(direction, [1.0, 0.0, 0.0])
    a /= np.linalg.norm(a)
    return a, np.cross(direction, a)


def cast_shadows(points: np.ndarray, to_light: np.ndarray, casters: list[Primitive]) -> np.ndarray:
    """For points (n, 3) and a unit direction towards a distant light, returns a bool (n,)
    mask of points from which some caster blocks the light.

    Culling in light space: points are sorted along one axis perpendicular to the light, and
    each caster only tests the points whose projection falls inside its own projected box.
    """
    shadowed = np.zeros(len(points), dtype=bool)
    if not len(points) or not casters:
        return shadowed
    a, b = light_basis(to_light)
    order = np.argsort(points @ a, kind="stable")
    points = points[order]  # everything below works in this order, so a caster's points are a slice
    pa, pb, pl = points @ a, points @ b, points @ to_light
    corners = corners_of(casters)  # (m, 8, 3)
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
            t = casters[k].intersect((p[:, 0], p[:, 1], p[:, 2]), tuple(to_light))
            blocked[cand[np.isfinite(t)]] = True
    shadowed[order] = blocked
    return shadowed
