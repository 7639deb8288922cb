"""The geometric pass shared by both renderers: what each pixel's ray hit (primitive,
point, normal, local coordinates), the exact labels, z-buffer depth, camera-space normals
and instance ids derived from it, and the per-hit layouts both renderers draw (lane
markings, windows, car glass, lamps)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from spigan.ontology import CLASS_INDEX
from spigan.sim import textures as tx
from spigan.sim.casting import cast_primary, surface_frames
from spigan.sim.geometry import Camera
from spigan.sim.scene import Scene
from spigan.sim.table import GROUND, MATERIALS, PrimitiveTable

# Depth written for sky pixels (m). It is the largest value SYNTHIA's depth encoding
# (16-bit centimetres) can hold, so exports stay exact. Farther hits are clipped to it.
SKY_DEPTH = 655.35
SKY = CLASS_INDEX["sky"]
# Instance ids: every object of a scene (a building, a wall, a hedge, a tree with its crown,
# a pole with its lamp, a car with its cabin and wheels, a person, a bicycle and, apart,
# its rider, a distractor) has its own id, its primitives' `object_id` (1 or more); "stuff"
# has STUFF_ID: the sky, the road (with its markings) and the sidewalks (curbs included).
STUFF_ID = 0
STUFF_CLASSES = (CLASS_INDEX["road"], CLASS_INDEX["sidewalk"])


@dataclass
class Hits:
    """The geometric pass: what each pixel's ray hit, shared by both renderers."""

    table: PrimitiveTable  # the primitives the camera may see; `pid` indexes its rows
    camera: Camera
    depth: np.ndarray  # (H, W) ray parameter = z-depth; inf for sky
    rays: np.ndarray  # (H, W, 3)
    flat: np.ndarray  # (n,) flat pixel indices of the hits
    pid: np.ndarray  # (n,) primitive (table row) of each hit
    points: np.ndarray  # (n, 3) world positions
    normals: np.ndarray  # (n, 3) unit world normals
    local: np.ndarray  # (n, 3) positions in the primitive's frame

    def param(self, name: str, default, sel: np.ndarray) -> np.ndarray:
        """Per-hit value of a primitive's style parameter, for the hits selected by `sel`."""
        return self.table.param(name, default)[self.pid[sel]]

    def attr(self, name: str, sel: np.ndarray) -> np.ndarray:
        """Per-hit value of the table's column `name`, for the hits selected by `sel`."""
        return getattr(self.table, name)[self.pid[sel]]

    @cached_property
    def materials(self) -> np.ndarray:
        """(n,) the material name of every hit."""
        return self.table.material_names()[self.pid]

    @cached_property
    def by_material(self) -> dict[str, np.ndarray]:
        """Material name -> the indices of its hits (grouped in one sort, not one string
        comparison over all hits per material)."""
        codes = self.table.material[self.pid]
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(MATERIALS) + 1))
        return {name: order[bounds[k]:bounds[k + 1]] for k, name in enumerate(MATERIALS) if bounds[k + 1] > bounds[k]}

    def of(self, *materials: str) -> np.ndarray:
        """The indices, in order, of the hits on any of `materials`."""
        parts = [self.by_material[m] for m in materials if m in self.by_material]
        return np.sort(np.concatenate(parts)) if len(parts) > 1 else (parts[0] if parts else np.zeros(0, np.int64))

    def distance(self) -> np.ndarray:
        """(n,) distance from the camera to every hit (the ray's length, not its z-depth)."""
        rays = self.rays.reshape(-1, 3)[self.flat]
        return self.depth.ravel()[self.flat] * np.sqrt((rays * rays).sum(1))

    def footprint(self) -> np.ndarray:
        """(n,) the size (m) of one pixel on the surface at every hit, stretched at grazing
        angles: detail finer than this would alias, so textures fade it out (mip-mapping)."""
        rays = self.rays.reshape(-1, 3)[self.flat]
        length = np.sqrt((rays * rays).sum(1))
        facing = np.abs((rays * self.normals).sum(1)) / length
        width = self.depth.shape[1]
        return self.depth.ravel()[self.flat] * length / (self.camera.focal(width) * np.maximum(facing, 0.1))


def trace(scene: Scene, camera: Camera, height: int, width: int) -> Hits:
    table = scene.visible_primitives(camera)
    depth, index, rays = cast_primary(camera, table, height, width)
    flat = np.flatnonzero(index >= 0)
    pid = index.ravel()[flat]
    points = camera.position + depth.ravel()[flat, None] * rays.reshape(-1, 3)[flat]
    local, normals = surface_frames(table, pid, points)
    return Hits(table, camera, depth, rays, flat, pid, points, normals, local)


def labels_and_depth(hits: Hits) -> tuple[np.ndarray, np.ndarray]:
    h, w = hits.depth.shape
    labels = np.full(h * w, SKY, dtype=np.uint8)
    labels[hits.flat] = hits.table.label[hits.pid]
    depth = np.where(np.isfinite(hits.depth), np.minimum(hits.depth, SKY_DEPTH), SKY_DEPTH).astype(np.float32)
    return labels.reshape(h, w), depth


def camera_normals(hits: Hits) -> np.ndarray:
    """(H, W, 3) float32 unit surface normals in OpenCV's camera axes (x right, y down,
    z forward, as the image shows them: a mirror camera's x is mirrored too), turned
    towards the camera (n . ray < 0); (0, 0, 0) where nothing was hit (the sky) and where
    the depth is clipped to SKY_DEPTH, as a normal derived from depth would be."""
    h, w = hits.depth.shape
    right, up, forward = hits.camera.basis()
    n = hits.normals @ np.stack([right, -up, forward], axis=1)  # (n, 3) world -> camera
    # Outward normals face the camera whenever it is outside the primitive hit; should it
    # be inside one, the side it sees is the one that faces it.
    facing = (hits.rays.reshape(-1, 3)[hits.flat] * hits.normals).sum(1)
    n[facing > 0] *= -1
    out = np.zeros((h * w, 3), dtype=np.float32)
    near = hits.depth.ravel()[hits.flat] < SKY_DEPTH
    out[hits.flat[near]] = n[near]
    return out.reshape(h, w, 3)


def instance_ids(hits: Hits) -> np.ndarray:
    """(H, W) uint16 instance ids (see STUFF_ID): 16 bits, like SYNTHIA's instance channel."""
    h, w = hits.depth.shape
    t = hits.table
    ids = np.where(np.isin(t.label, STUFF_CLASSES), STUFF_ID, t.object_id) if len(t) else np.zeros(1, np.int64)
    if ids.max() > np.iinfo(np.uint16).max:
        raise ValueError(f"object id {int(ids.max())} does not fit the 16 bits of an instance map")
    out = np.full(h * w, STUFF_ID, dtype=np.uint16)
    out[hits.flat] = ids[hits.pid]
    return out.reshape(h, w)


def markings(hits: Hits, sel: np.ndarray) -> np.ndarray:
    p = hits.points[sel]
    t, g = hits.table, np.flatnonzero(hits.table.kind == GROUND)[0]
    return tx.lane_marking_mask(p[:, 0], p[:, 2], t.style["road_half"][g], t.style["lane_width"][g],
                                t.style["lanes"][g], t.param("zebra_z", np.nan)[g])


def facade_masks(hits: Hits, sel: np.ndarray):
    half = hits.attr("half", sel)
    axis, along, height = tx.box_face(hits.local[sel], half)
    floor, bay = hits.param("floor", 3.0, sel), hits.param("bay", 2.5, sel)
    windows = tx.window_mask(along, height, 2 * half[:, 1], floor, bay, hits.param("win_w", 0.5, sel),
                             hits.param("win_h", 0.5, sel))
    shops = tx.shop_mask(along, height, floor, bay) & (hits.param("pattern", 0, sel) == 0)
    return axis, windows, shops


def glass_mask(hits: Hits, sel: np.ndarray, materials: np.ndarray) -> np.ndarray:
    """Car cabins: glass on the vertical faces below a thin roof line; buses: a band."""
    local, half = hits.local[sel], hits.attr("half", sel)
    vertical = np.abs(hits.normals[sel, 1]) < 0.5
    cabin = vertical & (local[:, 1] < half[:, 1] - 0.06) & (local[:, 1] > -half[:, 1] + 0.04)
    height = local[:, 1] + half[:, 1]
    band = vertical & (height > 0.45 * 2 * half[:, 1]) & (height < 2 * half[:, 1] - 0.3)
    band &= np.mod(local[:, 2] / 1.4, 1.0) > 0.1  # window pillars
    return np.where(materials == "car_cabin", cabin, band)


def lamp_index(hits: Hits, materials: np.ndarray) -> np.ndarray:
    """(n,) index of the lit lamp colour for lit traffic-light lamps, -1 elsewhere."""
    out = np.full(len(materials), -1)
    sel = np.flatnonzero(materials == "traffic_light")
    if sel.size:
        lamp = tx.lamp_layout(hits.local[sel], hits.attr("half", sel))
        lit = lamp == hits.param("lit", 0, sel)
        out[sel[lit]] = lamp[lit]
    return out

