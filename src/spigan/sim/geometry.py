"""Cameras and analytic primitives (a scene is built from these, one by one, then frozen
into a `table.PrimitiveTable`; `casting` casts rays against that table).

World frame: x to the right of the street's axis, y up, z along the street; metres.
Rays are generated with a forward component of exactly 1 (d . forward = 1), so the ray
parameter t of a hit *is* its z-buffer depth; no normalisation is needed anywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

EPS = 1e-4  # minimum ray parameter: avoids a surface shadowing itself
NEAR = 0.05  # camera near plane (m) used for culling


def cross(a, b) -> np.ndarray:
    """The cross product of two 3-vectors: np.cross's products and differences, in its
    order (so the same bits), without its overhead on arrays of three (some 30 us, a few
    times a frame)."""
    a0, a1, a2 = (float(v) for v in a)
    b0, b1, b2 = (float(v) for v in b)
    return np.array([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0])


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
        up = cross(forward, right)
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
# (coordinates in its own frame, used for textures), and extent() for culling.
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

    @property
    def _R(self) -> np.ndarray:
        """world = R local + center; row vectors: world = local @ R.T + center. Built when
        asked for (rarely: casting and shading use the table's columns), not for each of a
        scene's hundreds of primitives."""
        return np.array([[self._cos, 0.0, self._sin], [0.0, 1.0, 0.0], [-self._sin, 0.0, self._cos]])

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
        return intersect_box(*self._local_rays(o, d), self.half)

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
        a_idx, b_idx = ACROSS[self.axis]
        return intersect_cylinder((ol[a_idx], ol[b_idx], ol[self.axis]), (dl[a_idx], dl[b_idx], dl[self.axis]),
                                  self.radius**2, self.half_length)

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
        return intersect_ellipsoid(*self._local_rays(o, d), self.radii)

    def local_normal(self, q: np.ndarray) -> np.ndarray:
        n = q / self.radii**2
        return n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)

    def extent(self) -> np.ndarray:
        return self.radii


@dataclass
class Ground(Primitive):
    """The infinite plane y = 0 (the road surface); always tested against every ray."""

    def intersect(self, o: Components, d: Components) -> np.ndarray:
        return intersect_ground(o, d)

    def local_normal(self, q: np.ndarray) -> np.ndarray:
        n = np.zeros_like(q)
        n[..., 1] = 1.0
        return n

    def to_local(self, p: np.ndarray) -> np.ndarray:
        return p


# ---------------------------------------------------------------------------------------
# The intersection formulas, in a primitive's own frame. Their parameters (half extents,
# radii, ...) are scalars when one primitive's intersect() calls them, and per-ray arrays
# when `casting` tests many primitives of a kind at once: the same operations in the same
# order either way, so both give the same t, bit for bit.
# ---------------------------------------------------------------------------------------

# The two axes across a cylinder's axis, in the order its formula takes them.
ACROSS = {0: (1, 2), 1: (0, 2), 2: (0, 1)}


def intersect_box(o: Components, d: Components, half) -> np.ndarray:
    """Slab test against the box of half extents `half` = (hx, hy, hz) about the origin."""
    (ox, oy, oz), (dx, dy, dz) = o, d
    hx, hy, hz = half
    with np.errstate(divide="ignore", invalid="ignore"):
        ix, iy, iz = 1.0 / dx, 1.0 / dy, 1.0 / dz
        ax, bx = (-hx - ox) * ix, (hx - ox) * ix
        ay, by = (-hy - oy) * iy, (hy - oy) * iy
        az, bz = (-hz - oz) * iz, (hz - oz) * iz
        tmin = np.maximum(np.maximum(np.minimum(ax, bx), np.minimum(ay, by)), np.minimum(az, bz))
        tmax = np.minimum(np.minimum(np.maximum(ax, bx), np.maximum(ay, by)), np.maximum(az, bz))
        return np.where((tmax >= tmin) & (tmin > EPS), tmin, np.inf)


def intersect_cylinder(o: Components, d: Components, r2, hl) -> np.ndarray:
    """The capped cylinder of squared radius `r2` and half length `hl` about the origin;
    components ordered (across, across, along its axis)."""
    (oa, ob, oh), (da, db, dh) = o, d
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


def intersect_ellipsoid(o: Components, d: Components, radii) -> np.ndarray:
    """The ellipsoid of semi-axes `radii` = (rx, ry, rz) about the origin."""
    (ox, oy, oz), (dx, dy, dz) = o, d
    rx, ry, rz = radii
    ox, oy, oz, dx, dy, dz = ox / rx, oy / ry, oz / rz, dx / rx, dy / ry, dz / rz
    qa = dx * dx + dy * dy + dz * dz
    qb = ox * dx + oy * dy + oz * dz
    disc = qb * qb - qa * (ox * ox + oy * oy + oz * oz - 1.0)
    with np.errstate(invalid="ignore"):
        t = (-qb - np.sqrt(disc)) / qa
        return np.where((disc >= 0) & (t > EPS), t, np.inf)


def intersect_ground(o: Components, d: Components) -> np.ndarray:
    """The plane y = 0, from above (world coordinates: the ground has no frame of its own)."""
    oy, dy = np.broadcast_arrays(o[1], d[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        t = -oy / dy
        return np.where((dy < 0) & (t > EPS), t, np.inf)
