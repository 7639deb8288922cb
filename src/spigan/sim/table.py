"""A scene's primitives as one table in columns: one row per primitive, one numpy array per
attribute. Scenes are built primitive by primitive (`geometry`'s classes read well there),
then frozen here once; everything after (the caster, labels, depth, normals and instance
ids, both renderers) indexes these columns by primitive id (a hit's `pid`) instead of
gathering attributes from Python objects. A new per-primitive attribute is a new column.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from spigan.sim.geometry import _SIGNS, Box, Cylinder, Ellipsoid, Ground, Primitive

KINDS = ("ground", "box", "cylinder", "ellipsoid")
GROUND, BOX, CYLINDER, ELLIPSOID = range(len(KINDS))
_KIND_OF = {Ground: GROUND, Box: BOX, Cylinder: CYLINDER, Ellipsoid: ELLIPSOID}
# Every material a primitive may name; both renderers look materials up by these names.
MATERIALS = ("asphalt", "pavement", "facade", "wall", "fence", "metal", "sign", "traffic_light", "foliage", "bark",
             "car_paint", "car_cabin", "bus_body", "tyre", "cloth", "skin", "distractor")
MATERIAL_CODE = {name: k for k, name in enumerate(MATERIALS)}
_MATERIAL_NAMES = np.asarray(MATERIALS)
# Per-object texture parameters (`Primitive.style`) and their widths: a column each, NaN
# for the primitives that do not have them.
STYLES = {"lane_width": 1, "lanes": 1, "road_half": 1, "zebra_z": 1, "floor": 1, "bay": 1, "win_w": 1, "win_h": 1,
          "pattern": 1, "spacing": 1, "face": 3, "shape": 1, "lit": 1, "window_from": 1}


@dataclass(frozen=True)
class PrimitiveTable:
    """P primitives, one row each."""

    shapes: tuple[Primitive, ...]  # the rows as built: their intersect() is the casters' kernel
    kind: np.ndarray  # (P,) int64 index into KINDS
    label: np.ndarray  # (P,) uint8 16-class index
    object_id: np.ndarray  # (P,) int64; the parts of one object share it
    material: np.ndarray  # (P,) int64 index into MATERIALS
    color: np.ndarray  # (P, 3) base colour, display RGB in [0, 1]
    center: np.ndarray  # (P, 3) world position of the primitive's frame
    cos: np.ndarray  # (P,) cos and sin of the yaw about y
    sin: np.ndarray
    half: np.ndarray  # (P, 3) box half extents; 0 for other kinds
    radius: np.ndarray  # (P,) cylinder radius; 0 for other kinds
    radius2: np.ndarray  # (P,) its square, as Cylinder.intersect computes it (radius**2); 0 for other kinds
    half_length: np.ndarray  # (P,) cylinder half length; 1 for other kinds
    axis: np.ndarray  # (P,) int64 cylinder axis; 1 for other kinds
    radii: np.ndarray  # (P, 3) ellipsoid semi-axes; 1 for other kinds
    extent: np.ndarray  # (P, 3) half extents of the bounding box in the primitive's frame; 0 for the ground
    corners: np.ndarray  # (P, 8, 3) world corners of that box; 0 for the ground
    style: dict  # STYLES name -> (P,) or (P, 3) float64, NaN where a primitive has none

    @staticmethod
    def of(primitives: list[Primitive]) -> PrimitiveTable:
        """Freezes primitives, built one by one, into columns (once per scene: a few ms for
        its ~400 primitives, so each column is filled from the rows of its kind only)."""
        p = primitives
        n = len(p)
        kind = np.asarray([_KIND_OF[type(q)] for q in p], dtype=np.int64)
        rows = {k: np.flatnonzero(kind == k) for k in range(len(KINDS))}
        half, radii = np.zeros((n, 3)), np.ones((n, 3))
        radius, radius2, half_length, axis = np.zeros(n), np.zeros(n), np.ones(n), np.ones(n, dtype=np.int64)
        if rows[BOX].size:
            half[rows[BOX]] = [p[k].half for k in rows[BOX]]
        if rows[ELLIPSOID].size:
            radii[rows[ELLIPSOID]] = [p[k].radii for k in rows[ELLIPSOID]]
        for k in rows[CYLINDER]:
            radius[k], half_length[k], axis[k] = p[k].radius, p[k].half_length, p[k].axis
            # Squared here as the per-primitive formula squares it (Python's or numpy's
            # scalar pow), so that casting many cylinders at once gives the same bits.
            radius2[k] = p[k].radius**2
        # Half extents of the bounding boxes in each primitive's frame (`extent()`).
        extent = np.zeros((n, 3))
        extent[rows[BOX]], extent[rows[ELLIPSOID]] = half[rows[BOX]], radii[rows[ELLIPSOID]]
        cyl = rows[CYLINDER]
        extent[cyl] = radius[cyl, None]
        extent[cyl, axis[cyl]] = half_length[cyl]
        style = {}
        for k, q in enumerate(p):
            for name, value in q.style.items():
                if name not in STYLES:
                    raise ValueError(f"style parameter {name!r} has no column: add it to table.STYLES")
                if name not in style:
                    style[name] = _missing(n, STYLES[name])
                style[name][k] = value
        unknown = {q.material for q in p} - set(MATERIALS)
        if unknown:
            raise ValueError(f"materials {sorted(unknown)} are not in table.MATERIALS")
        cos, sin = np.asarray([q._cos for q in p], dtype=np.float64), np.asarray([q._sin for q in p], dtype=np.float64)
        center = np.asarray([q.center for q in p], dtype=np.float64).reshape(-1, 3)
        return PrimitiveTable(
            shapes=tuple(p), kind=kind,
            label=np.asarray([q.label for q in p], dtype=np.uint8),
            object_id=np.asarray([q.object_id for q in p], dtype=np.int64),
            material=np.asarray([MATERIAL_CODE[q.material] for q in p], dtype=np.int64),
            color=np.asarray([q.color for q in p], dtype=np.float64).reshape(-1, 3),
            center=center, cos=cos, sin=sin, half=half, radius=radius, radius2=radius2, half_length=half_length,
            axis=axis, radii=radii, extent=extent, corners=_corners(extent, cos, sin, center, kind), style=style)

    def __len__(self) -> int:
        return len(self.kind)

    def take(self, rows: np.ndarray) -> PrimitiveTable:
        """The table of primitives `rows` (indices), in that order."""
        columns = {f.name: getattr(self, f.name)[rows] for f in fields(self) if f.name not in ("shapes", "style")}
        return PrimitiveTable(shapes=tuple(self.shapes[k] for k in rows),
                              style={k: v[rows] for k, v in self.style.items()}, **columns)

    def concat(self, other: PrimitiveTable) -> PrimitiveTable:
        """This table's rows, then `other`'s."""
        columns = {f.name: np.concatenate([getattr(self, f.name), getattr(other, f.name)])
                   for f in fields(self) if f.name not in ("shapes", "style")}
        style = {}
        for name in set(self.style) | set(other.style):
            style[name] = np.concatenate([t.style.get(name, _missing(len(t), STYLES[name])) for t in (self, other)])
        return PrimitiveTable(shapes=self.shapes + other.shapes, style=style, **columns)

    def param(self, name: str, default) -> np.ndarray:
        """(P,) or (P, 3): style parameter `name` of every row, `default` where it has none."""
        values = self.style.get(name, _missing(len(self), STYLES[name]))
        return np.where(np.isnan(values), np.asarray(default, dtype=np.float64), values)

    def material_names(self) -> np.ndarray:
        """(P,) the material name of every row."""
        return _MATERIAL_NAMES[self.material]

    def rows_of(self, *materials: str) -> np.ndarray:
        """The rows, in order, of primitives of any of `materials`."""
        return np.flatnonzero(np.isin(self.material, [MATERIAL_CODE[m] for m in materials]))


def _missing(n: int, width: int) -> np.ndarray:
    return np.full((n, width) if width > 1 else n, np.nan)


def _corners(extent: np.ndarray, cos: np.ndarray, sin: np.ndarray, center: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """(P, 8, 3) world corners of the bounding boxes (0 for the ground, which has none)."""
    local = _SIGNS[None] * extent[:, None]  # (P, 8, 3)
    c, s = cos[:, None], sin[:, None]
    world = np.stack([c * local[..., 0] + s * local[..., 2], local[..., 1], -s * local[..., 0] + c * local[..., 2]],
                     axis=-1) + center[:, None]
    world[kind == GROUND] = 0.0
    return world
