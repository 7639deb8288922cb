"""Procedural street scenes and the two camera distributions.

A scene is a straight street along +z: a road with lane markings between raised sidewalks,
rows of building blocks behind them (with gaps holding walls, fences, hedges and trees),
street furniture along the curbs (lamp poles, traffic signs, traffic lights, trees), parked
and moving cars and buses, pedestrians on the sidewalks, and riders on bicycles and
motorcycles in the road. Everything is built from the primitives of `geometry`.

The scene depends only on its random generator; the camera is drawn separately, from the
`sim` (SYNTHIA-RAND-like, wide ranges) or `photo` (car-mounted, narrow ranges) distribution,
so the same scene can be seen through either camera and drawn by either renderer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from spigan.ontology import CLASS_INDEX as C
from spigan.sim.geometry import Box, Camera, Cylinder, Ellipsoid, Ground, Primitive
from spigan.sim.table import GROUND, PrimitiveTable

STREET_START, STREET_END = -40.0, 220.0  # z range that is populated (m)


@dataclass
class Layout:
    """The street's dimensions, which cameras need to be placed sensibly."""

    road_half: float  # half width of the road (m): the lanes plus a parking strip
    lane_width: float
    lanes_per_side: int
    parking_width: float  # strip between the outer lane and the curb (parked cars, riders)
    sidewalk_width: float
    curb_height: float
    district: str = "city"  # town (low, leafy), city (mid-rise, shops) or downtown (towers)


@dataclass
class Scene:
    layout: Layout
    table: PrimitiveTable  # every primitive of the scene, one row each
    to_sun: np.ndarray  # unit vector towards the sun
    appearance: dict = field(default_factory=dict)  # renderer-independent random draws
    # Per side of the street (-1, +1): the front row's blocks along z, as rows of
    # (z start, z end, |x| of the facade, height); gaps have height 0. Sorted by z.
    skyline: dict = field(default_factory=dict)

    def visible_primitives(self, camera: Camera, clearance: float = 0.3) -> PrimitiveTable:
        """The table without the whole objects that have a part within `clearance` of the
        camera, so that a randomly placed camera never sits inside a car or a tree crown."""
        t = self.table
        bounded = t.kind != GROUND
        corners = t.corners[bounded]  # (n, 8, 3)
        pos = camera.position
        near = np.all((pos > corners.min(axis=1) - clearance) & (pos < corners.max(axis=1) + clearance), axis=1)
        return t.take(np.flatnonzero(~np.isin(t.object_id, t.object_id[bounded][near])))

    def sky_view(self, points: np.ndarray, normals: np.ndarray) -> np.ndarray:
        """(n,) the share of the open sky that surfaces at `points` facing `normals` see
        from the street canyon (1 in the open): the facades of the front rows hide the sky
        up to the elevation of their tops, as the sky view factor of urban climatology
        measures it (for an infinitely long canyon: cos of the walls' elevation for the
        street, 1 - sin of the opposite wall's for a facade)."""
        x, y, z = points[:, 0], points[:, 1], points[:, 2]
        sin, cos = {}, {}
        for side in (-1, 1):
            rows = np.asarray(self.skyline.get(side) or [(0.0, 0.0, 1e9, 0.0)])
            k = np.clip(np.searchsorted(rows[:, 0], z, side="right") - 1, 0, len(rows) - 1)
            height = np.where((z >= rows[k, 0]) & (z < rows[k, 1]), rows[k, 3], 0.0)
            distance = rows[k, 2] - side * x  # to that side's facades; <= 0 on or beyond them
            tan = np.where(distance > 0.2, np.maximum(height - y, 0) / np.maximum(distance, 0.2), 0.0)
            cos[side] = 1 / np.sqrt(1 + tan * tan)
            sin[side] = tan * cos[side]
        upward = np.abs(normals[:, 1]) + np.abs(normals[:, 2])  # the street, roofs, faces along it
        to_right, to_left = np.maximum(normals[:, 0], 0), np.maximum(-normals[:, 0], 0)
        view = upward * (cos[-1] + cos[1]) / 2 + to_right * (1 - sin[1]) + to_left * (1 - sin[-1])
        return view / np.maximum(upward + to_right + to_left, 1e-9)


class _Builder:
    """Collects primitives one by one (frozen into the scene's table at the end), giving each
    object an id and a per-object colour jitter."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.primitives: list[Primitive] = []
        self.skyline: dict[int, list] = {-1: [], 1: []}
        self._next_id = 1

    def new_object(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def jitter(self, color, amount: float = 0.08) -> tuple[float, float, float]:
        # Plain floats: numpy's overhead on three numbers is most of a scene's build time.
        return tuple(min(max(float(c) + d, 0.0), 1.0) for c, d in zip(color, self.rng.normal(0, amount, 3).tolist()))

    def add(self, prim: Primitive) -> None:
        self.primitives.append(prim)

    def placed(self, origin, yaw: float, offset) -> np.ndarray:
        """World position of a part at `offset` in an object's frame at `origin`, `yaw`."""
        c, s = math.cos(yaw), math.sin(yaw)
        x, y, z = offset
        return np.array([origin[0] + c * x + s * z, origin[1] + y, origin[2] - s * x + c * z], dtype=np.float64)


# Base colours (display RGB in [0, 1]) shared by both renderers: the `sim` renderer draws them
# flat, the `photo` renderer uses them only as tints of its own materials.
CAR_PAINTS = [(0.85, 0.85, 0.85), (0.1, 0.1, 0.12), (0.55, 0.56, 0.58), (0.6, 0.1, 0.1), (0.1, 0.2, 0.5),
              (0.3, 0.32, 0.35), (0.8, 0.78, 0.7), (0.15, 0.35, 0.2)]
FACADES = [(0.82, 0.76, 0.62), (0.62, 0.35, 0.25), (0.7, 0.7, 0.68), (0.9, 0.88, 0.82), (0.5, 0.45, 0.4),
           (0.75, 0.6, 0.45), (0.45, 0.5, 0.55)]
CLOTHES = [(0.1, 0.1, 0.15), (0.2, 0.25, 0.45), (0.5, 0.1, 0.1), (0.8, 0.8, 0.8), (0.3, 0.3, 0.3),
           (0.55, 0.45, 0.3), (0.15, 0.3, 0.2)]
SKIN = [(0.87, 0.72, 0.6), (0.65, 0.48, 0.36), (0.42, 0.3, 0.22)]


DISTRICTS = ("town", "city", "downtown")
DISTRICT_ODDS = (0.4, 0.4, 0.2)
# Building heights (m) per district: the front row's usual range, its occasional tall
# block, and the row behind; street-level views of towns see much more sky than downtown.
HEIGHTS = {"town": ((6, 14), (14, 22), (8, 20)), "city": ((9, 24), (24, 40), (12, 35)),
           "downtown": ((15, 45), (45, 80), (30, 80))}


def generate_scene(rng: np.random.Generator) -> Scene:
    """Draws one street scene."""
    b = _Builder(rng)
    district = DISTRICTS[int(rng.choice(len(DISTRICTS), p=DISTRICT_ODDS))]
    lanes = 1 if rng.random() < 0.6 else 2
    lane_w = float(rng.uniform(3.0, 3.7))
    # Most streets have a parking strip by the curb; the others only a gutter.
    parking = float(rng.uniform(2.0, 2.6)) if rng.random() < 0.7 else float(rng.uniform(0.4, 0.9))
    layout = Layout(
        road_half=lanes * lane_w + parking,
        lane_width=lane_w,
        lanes_per_side=lanes,
        parking_width=parking,
        sidewalk_width=float(rng.uniform(2.5, 6.0)),
        curb_height=float(rng.uniform(0.12, 0.2)),
        district=district,
    )
    _road_and_sidewalks(b, layout)
    for side in (-1, 1):
        _building_rows(b, layout, side)
        _street_furniture(b, layout, side)
        _parked_cars(b, layout, side)
        _pedestrians(b, layout, side)
    if rng.random() < 0.5:  # a T-junction: a facade closing the street far ahead
        z = float(rng.uniform(110, 200))
        width = 2 * (layout.road_half + layout.sidewalk_width) + 40
        _building(b, center=(0.0, 0.0, z + 8), half_x=width / 2, half_z=8.0, height=float(rng.uniform(10, 35)))
    _traffic(b, layout)
    _riders(b, layout)

    elevation = math.radians(rng.uniform(20, 65))
    azimuth = rng.uniform(0, 2 * math.pi)
    to_sun = np.array([math.cos(elevation) * math.sin(azimuth), math.sin(elevation), math.cos(elevation) * math.cos(azimuth)])
    appearance = {
        "sky_color": b.jitter((0.55, 0.72, 0.9), 0.05),
        "overcast": float(rng.random() < 0.3),
        "visibility": float(rng.uniform(200, 900)),  # haze distance (m)
        "cloud_seed": int(rng.integers(1 << 30)),
    }
    return Scene(layout, PrimitiveTable.of(b.primitives), to_sun, appearance, b.skyline)


def _road_and_sidewalks(b: _Builder, L: Layout) -> None:
    b.add(Ground(label=C["road"], material="asphalt", color=b.jitter((0.45, 0.45, 0.48), 0.03),
                 object_id=b.new_object(),
                 style={"lane_width": L.lane_width, "lanes": L.lanes_per_side, "road_half": L.road_half,
                        "zebra_z": float(b.rng.uniform(8, 60)) if b.rng.random() < 0.35 else float("nan")}))
    length = STREET_END - STREET_START + 200
    zc = (STREET_START + STREET_END) / 2
    color = b.jitter((0.7, 0.66, 0.6), 0.04)
    for side in (-1, 1):
        # Wide enough to be the ground everywhere beside the road, behind the buildings too.
        b.add(Box(label=C["sidewalk"], material="pavement", color=color, object_id=b.new_object(),
                  center=(side * (L.road_half + 40), L.curb_height / 2, zc), half=(40, L.curb_height / 2, length / 2)))


def _building(b: _Builder, center, half_x: float, half_z: float, height: float, shops: float = 0.4) -> None:
    """A block; `shops`: the chance that its ground floor is shop fronts (pattern 0)."""
    rng = b.rng
    style = {
        "floor": float(rng.uniform(2.8, 3.8)),
        "bay": float(rng.uniform(1.8, 3.5)),
        "win_w": float(rng.uniform(0.35, 0.7)),
        "win_h": float(rng.uniform(0.35, 0.65)),
        "pattern": 0 if rng.random() < shops else int(rng.integers(1, 3)),
    }
    b.add(Box(label=C["building"], material="facade", color=b.jitter(FACADES[rng.integers(len(FACADES))], 0.06),
              object_id=b.new_object(), center=(center[0], height / 2, center[2]), half=(half_x, height / 2, half_z),
              style=style))


def _building_rows(b: _Builder, L: Layout, side: int) -> None:
    rng = b.rng
    front = L.road_half + L.sidewalk_width
    usual, tall, behind = HEIGHTS[L.district]
    shops = {"town": 0.3, "city": 0.6, "downtown": 0.5}[L.district]
    z = STREET_START
    while z < STREET_END:
        width = float(rng.uniform(8, 30))
        if rng.random() < (0.3 if L.district == "town" else 0.2):  # a gap between blocks: wall, fence, hedge or trees
            gap = float(rng.uniform(4, 14))
            _gap_content(b, L, side, z, z + gap)
            b.skyline[side].append((z, z + gap, front, 0.0))
            z += gap
            continue
        setback = float(rng.uniform(0, 4)) if rng.random() < 0.35 else 0.0
        depth = float(rng.uniform(8, 20))
        height = float(rng.uniform(*usual) if rng.random() < 0.85 else rng.uniform(*tall))
        _building(b, center=(side * (front + setback + depth / 2), 0, z + width / 2), half_x=depth / 2,
                  half_z=width / 2, height=height, shops=shops)
        b.skyline[side].append((z, z + width, front + setback, height))
        if setback > 1.5 and rng.random() < 0.5:  # a front garden: low wall or hedge
            _gap_content(b, L, side, z, z + width, x=front + 0.3)
        z += width
    # A second row further back, seen through the gaps and above low blocks (not always there).
    z = STREET_START
    while z < STREET_END:
        width = float(rng.uniform(20, 50))
        if rng.random() < 0.7:
            _building(b, center=(side * (front + 30 + float(rng.uniform(0, 10))), 0, z + width / 2), half_x=8,
                      half_z=width / 2, height=float(rng.uniform(*behind)), shops=0.0)
        z += width + float(rng.uniform(0, 20))


def _gap_content(b: _Builder, L: Layout, side: int, z0: float, z1: float, x: float | None = None) -> None:
    rng = b.rng
    x = L.road_half + L.sidewalk_width + 0.2 if x is None else x
    length = z1 - z0
    kind = rng.choice(["wall", "fence", "hedge", "trees"], p=[0.3, 0.3, 0.2, 0.2])
    zc = (z0 + z1) / 2
    if kind == "wall":
        h = float(rng.uniform(1.0, 3.0))
        b.add(Box(label=C["wall"], material="wall", color=b.jitter((0.6, 0.58, 0.55)), object_id=b.new_object(),
                  center=(side * x, h / 2, zc), half=(0.15, h / 2, length / 2)))
    elif kind == "fence":
        h = float(rng.uniform(1.0, 2.2))
        b.add(Box(label=C["fence"], material="fence", color=b.jitter((0.45, 0.42, 0.38)), object_id=b.new_object(),
                  center=(side * x, h / 2, zc), half=(0.03, h / 2, length / 2), style={"spacing": float(rng.uniform(0.1, 0.3))}))
    elif kind == "hedge":
        h = float(rng.uniform(0.8, 2.0))
        b.add(Box(label=C["vegetation"], material="foliage", color=b.jitter((0.25, 0.45, 0.15)), object_id=b.new_object(),
                  center=(side * (x + 0.5), h / 2, zc), half=(0.5, h / 2, length / 2)))
    else:
        for z in np.arange(z0 + 2, z1 - 1, 5.0):
            _tree(b, (side * (x + 2.5), 0.0, float(z)))


def _tree(b: _Builder, base) -> None:
    """A tree: from young ones to the old planes and limes of city streets (a scale of
    0.8-2.2), whose crowns spread into lobes."""
    rng = b.rng
    oid = b.new_object()
    size = float(np.exp(rng.uniform(math.log(0.8), math.log(2.2))))
    trunk_h = float(rng.uniform(1.8, 3.5)) * size ** 0.7
    r = float(rng.uniform(0.1, 0.22)) * size
    bark, leaves = b.jitter((0.35, 0.25, 0.15), 0.04), b.jitter((0.25, 0.5, 0.15), 0.07)
    b.add(Cylinder(label=C["vegetation"], material="bark", color=bark, object_id=oid,
                   center=(base[0], trunk_h / 2 + 0.1, base[2]), radius=r, half_length=trunk_h / 2 + 0.1))
    crown = np.array([rng.uniform(1.3, 2.8), rng.uniform(1.5, 3.2), rng.uniform(1.3, 2.8)]) * size
    center = np.array([base[0], trunk_h + crown[1] * 0.8, base[2]])
    b.add(Ellipsoid(label=C["vegetation"], material="foliage", color=leaves, object_id=oid, center=center,
                    radii=crown))
    for _ in range(int(rng.integers(0, 3)) if size > 1.2 else 0):
        offset = rng.normal(0, 0.45, 3) * crown
        offset[1] = abs(offset[1]) * 0.6
        b.add(Ellipsoid(label=C["vegetation"], material="foliage", color=leaves, object_id=oid,
                        center=center + offset, radii=crown * rng.uniform(0.45, 0.7, 3)))


def _street_furniture(b: _Builder, L: Layout, side: int) -> None:
    rng = b.rng
    curb = L.road_half + 0.45
    # Lamp posts: a pole with an arm reaching over the road.
    z = float(rng.uniform(-10, 10))
    while z < STREET_END:
        oid = b.new_object()
        h = float(rng.uniform(5, 9))
        grey = b.jitter((0.5, 0.5, 0.52), 0.05)
        b.add(Cylinder(label=C["pole"], material="metal", color=grey, object_id=oid,
                       center=(side * curb, h / 2, z), radius=float(rng.uniform(0.07, 0.13)), half_length=h / 2))
        arm = float(rng.uniform(0.8, 2.0))
        b.add(Box(label=C["pole"], material="metal", color=grey, object_id=oid,
                  center=(side * (curb - arm / 2), h - 0.1, z), half=(arm / 2, 0.06, 0.08)))
        z += float(rng.uniform(14, 30))
    # Tree row along the curb (most streets of towns have one).
    if rng.random() < (0.85 if L.district == "town" else 0.65):
        z = float(rng.uniform(-10, 5))
        while z < STREET_END:
            if rng.random() < 0.8:
                _tree(b, (side * (L.road_half + min(1.2, L.sidewalk_width * 0.4)), L.curb_height, z))
            z += float(rng.uniform(6, 13))
    # Traffic signs on their own posts, facing oncoming (-z looking) traffic.
    for _ in range(int(rng.poisson(3.5))):
        _traffic_sign(b, (side * (curb + 0.1), L.curb_height, float(rng.uniform(3, 90))))
    # Traffic lights: post at the curb; sometimes a second head hanging over the road.
    for _ in range(int(rng.poisson(1.2))):
        _traffic_light(b, L, side, float(rng.uniform(5, 100)))


def _traffic_sign(b: _Builder, base) -> None:
    rng = b.rng
    oid = b.new_object()
    h = float(rng.uniform(2.0, 3.0))
    b.add(Cylinder(label=C["pole"], material="metal", color=b.jitter((0.55, 0.55, 0.57), 0.04), object_id=oid,
                   center=(base[0], base[1] + h / 2, base[2]), radius=0.04, half_length=h / 2))
    face = [(0.85, 0.1, 0.1), (0.1, 0.25, 0.7), (0.95, 0.8, 0.1), (0.95, 0.95, 0.95)][rng.integers(4)]
    top = base[1] + h + 0.35
    style = {"face": face, "shape": int(rng.integers(0, 2))}
    if style["shape"] == 0:  # round sign: a thin disc facing -z
        b.add(Cylinder(label=C["traffic sign"], material="sign", color=b.jitter(face, 0.04), object_id=oid,
                       center=(base[0], top, base[2] - 0.05), radius=0.35, half_length=0.02, axis=2, style=style))
    else:  # rectangular panel
        b.add(Box(label=C["traffic sign"], material="sign", color=b.jitter(face, 0.04), object_id=oid,
                  center=(base[0], top, base[2] - 0.05), half=(float(rng.uniform(0.3, 0.5)), 0.35, 0.02), style=style))


def _traffic_light(b: _Builder, L: Layout, side: int, z: float) -> None:
    rng = b.rng
    oid = b.new_object()
    x = side * (L.road_half + 0.4)
    h = float(rng.uniform(2.6, 3.6))
    dark = b.jitter((0.2, 0.2, 0.2), 0.03)
    b.add(Cylinder(label=C["pole"], material="metal", color=b.jitter((0.45, 0.45, 0.47), 0.04), object_id=oid,
                   center=(x, h / 2, z), radius=0.08, half_length=h / 2))
    lit = int(rng.integers(0, 3))  # which lamp is on: red, amber, green
    b.add(Box(label=C["traffic light"], material="traffic_light", color=dark, object_id=oid,
              center=(x, h + 0.5, z - 0.1), half=(0.17, 0.5, 0.15), style={"lit": lit}))
    if rng.random() < 0.5:  # mast arm over the road with a second head
        reach = float(rng.uniform(2.5, L.road_half))
        b.add(Box(label=C["pole"], material="metal", color=dark, object_id=oid,
                  center=(x - side * reach / 2, h + 1.6, z), half=(reach / 2, 0.07, 0.07)))
        b.add(Box(label=C["traffic light"], material="traffic_light", color=dark, object_id=oid,
                  center=(x - side * reach, h + 1.0, z - 0.1), half=(0.17, 0.5, 0.15), style={"lit": lit}))


def _car(b: _Builder, pos, yaw: float) -> None:
    rng = b.rng
    oid = b.new_object()
    length, width = float(rng.uniform(3.8, 4.9)), float(rng.uniform(1.65, 1.9))
    body_h, cabin_h = float(rng.uniform(0.6, 0.8)), float(rng.uniform(0.5, 0.65))
    paint = b.jitter(CAR_PAINTS[rng.integers(len(CAR_PAINTS))], 0.04)
    clearance, wheel_r = 0.25, float(rng.uniform(0.3, 0.36))
    b.add(Box(label=C["car"], material="car_paint", color=paint, object_id=oid, yaw=yaw,
              center=b.placed(pos, yaw, (0, clearance + body_h / 2, 0)), half=(width / 2, body_h / 2, length / 2)))
    cabin_len = length * float(rng.uniform(0.45, 0.6))
    b.add(Box(label=C["car"], material="car_cabin", color=paint, object_id=oid, yaw=yaw,
              center=b.placed(pos, yaw, (0, clearance + body_h + cabin_h / 2, -length * 0.05)),
              half=(width / 2 - 0.08, cabin_h / 2, cabin_len / 2)))
    for sx in (-1, 1):
        for sz in (-1, 1):
            b.add(Cylinder(label=C["car"], material="tyre", color=(0.08, 0.08, 0.08), object_id=oid, yaw=yaw,
                           center=b.placed(pos, yaw, (sx * (width / 2 - 0.12), wheel_r, sz * (length / 2 - 0.75))),
                           radius=wheel_r, half_length=0.11, axis=0))


def _bus(b: _Builder, pos, yaw: float) -> None:
    rng = b.rng
    oid = b.new_object()
    length, width, height = float(rng.uniform(10, 12.5)), 2.5, float(rng.uniform(2.8, 3.2))
    paint = b.jitter([(0.85, 0.75, 0.1), (0.8, 0.1, 0.1), (0.9, 0.9, 0.9), (0.2, 0.4, 0.7)][rng.integers(4)], 0.04)
    b.add(Box(label=C["bus"], material="bus_body", color=paint, object_id=oid, yaw=yaw,
              center=b.placed(pos, yaw, (0, 0.35 + height / 2, 0)), half=(width / 2, height / 2, length / 2),
              style={"window_from": 0.35 + height * 0.45}))
    for sx in (-1, 1):
        for sz in (-1, 1):
            b.add(Cylinder(label=C["bus"], material="tyre", color=(0.08, 0.08, 0.08), object_id=oid, yaw=yaw,
                           center=b.placed(pos, yaw, (sx * (width / 2 - 0.1), 0.5, sz * (length / 2 - 2.2))),
                           radius=0.5, half_length=0.15, axis=0))


def _parked_cars(b: _Builder, L: Layout, side: int) -> None:
    rng = b.rng
    z = float(rng.uniform(-15, 0))
    occupancy = 0.0 if rng.random() < 0.25 or L.parking_width < 2 else float(rng.uniform(0.15, 0.6))
    x = side * (L.road_half - L.parking_width / 2)
    while z < 130:
        if rng.random() < occupancy:
            yaw = (0.0 if side > 0 else math.pi) + float(rng.normal(0, 0.04))
            if rng.random() < 0.04:
                _bus(b, (x, 0, z + 4), yaw)
                z += 14
                continue
            _car(b, (x, 0, z), yaw)
        z += float(rng.uniform(5.5, 7.5))


def _lane_centres(L: Layout, side: int) -> list[float]:
    """x of the lane centres on one side (+1: traffic along +z, -1: oncoming)."""
    return [side * L.lane_width * (k + 0.5) for k in range(L.lanes_per_side)]


def _traffic(b: _Builder, L: Layout) -> None:
    """Moving cars and buses in the lanes, keeping clear of the camera's usual spot (z ~ 0)."""
    rng = b.rng
    for side in (-1, 1):
        yaw = 0.0 if side > 0 else math.pi
        for x in _lane_centres(L, side):
            z = float(rng.uniform(10, 30))
            while z < 150:
                if rng.random() < 0.03 + 0.04 * (side < 0):
                    _bus(b, (x, 0, z + 6), yaw + float(rng.normal(0, 0.02)))
                    z += 14
                elif rng.random() < 0.35:
                    _car(b, (x + float(rng.normal(0, 0.2)), 0, z), yaw + float(rng.normal(0, 0.03)))
                z += float(rng.uniform(8, 25))


def _person(b: _Builder, pos, yaw: float, label: int, seated: bool = False) -> None:
    rng = b.rng
    oid = b.new_object()
    height = float(rng.uniform(1.55, 1.9))
    shirt = b.jitter(CLOTHES[rng.integers(len(CLOTHES))], 0.05)
    trousers = b.jitter(CLOTHES[rng.integers(len(CLOTHES))], 0.05)
    skin = b.jitter(SKIN[rng.integers(len(SKIN))], 0.03)
    if seated:  # `pos` is the saddle: legs hang below it towards the pedals
        hips = 0.0
        b.add(Box(label=label, material="cloth", color=trousers, object_id=oid, yaw=yaw,
                  center=b.placed(pos, yaw, (0, -0.27, 0.12)), half=(0.17, 0.27, 0.2)))
    else:
        hips = 0.47 * height
        b.add(Box(label=label, material="cloth", color=trousers, object_id=oid, yaw=yaw,
                  center=b.placed(pos, yaw, (0, hips / 2, 0)), half=(0.16, hips / 2, 0.12)))
    torso_h = 0.34 * height
    b.add(Ellipsoid(label=label, material="cloth", color=shirt, object_id=oid, yaw=yaw,
                    center=b.placed(pos, yaw, (0, hips + torso_h / 2, 0)), radii=(0.22, torso_h / 2 + 0.04, 0.14)))
    b.add(Ellipsoid(label=label, material="skin", color=skin, object_id=oid, yaw=yaw,
                    center=b.placed(pos, yaw, (0, hips + torso_h + 0.13, 0)), radii=(0.1, 0.13, 0.11)))


def _pedestrians(b: _Builder, L: Layout, side: int) -> None:
    rng = b.rng
    for _ in range(int(rng.poisson(8))):
        x = side * (L.road_half + float(rng.uniform(0.5, L.sidewalk_width - 0.3)))
        _person(b, (x, L.curb_height, float(rng.uniform(-5, 70))), float(rng.uniform(0, 2 * math.pi)), C["person"])


def _riders(b: _Builder, L: Layout) -> None:
    """Riders on bicycles and motorcycles, in the outer lanes near the curb."""
    rng = b.rng
    for kind, rate in (("bicycle", 1.2), ("motorcycle", 0.9)):
        for _ in range(int(rng.poisson(rate))):
            side = 1 if rng.random() < 0.6 else -1
            x = side * (L.road_half - float(rng.uniform(0.6, L.parking_width + 0.5)))
            z = float(rng.uniform(5, 60))
            yaw = (0.0 if side > 0 else math.pi) + float(rng.normal(0, 0.1))
            oid = b.new_object()
            if kind == "bicycle":
                wheel_r, half_gap, frame = 0.34, 0.52, (0.03, 0.2, 0.5)
                metal = b.jitter((0.2, 0.2, 0.25), 0.1)
                label = C["bicycle"]
            else:
                wheel_r, half_gap, frame = 0.31, 0.7, (0.18, 0.25, 0.75)
                metal = b.jitter((0.15, 0.15, 0.18), 0.08)
                label = C["motorcycle"]
            for sz in (-1, 1):
                b.add(Cylinder(label=label, material="tyre", color=(0.06, 0.06, 0.06), object_id=oid, yaw=yaw,
                               center=b.placed((x, 0, z), yaw, (0, wheel_r, sz * half_gap)), radius=wheel_r,
                               half_length=0.03 if kind == "bicycle" else 0.07, axis=0))
            b.add(Box(label=label, material="metal", color=metal, object_id=oid, yaw=yaw,
                      center=b.placed((x, 0, z), yaw, (0, wheel_r + frame[1] + 0.05, 0)), half=frame))
            _person(b, (x, wheel_r + 0.6, z), yaw, C["rider"], seated=True)


# ---------------------------------------------------------------------------------------
# Cameras
# ---------------------------------------------------------------------------------------


def sample_camera(layout: Layout, rng: np.random.Generator, domain: str, vehicle: float = 1.0) -> Camera:
    """`sim`: between SYNTHIA-RAND-like random viewpoints anywhere over road and sidewalks
    (`vehicle` = 0) and a camera on a car in a lane (`vehicle` = 1): both are drawn, always
    in the same order, and every parameter is interpolated; half of them see the street
    mirrored (left-hand traffic). `photo`: the demo target's own car-mounted camera (narrow
    height, pitch and fov ranges, no roll, right-hand traffic)."""
    if domain == "sim":
        random_view, vehicle_view = _random_view(layout, rng), _vehicle_view(layout, rng)
        # Half the streets drive on the left: the mirror image of a right-hand street.
        left_hand = bool(rng.random() < 0.5)
        return Camera(*((1 - vehicle) * a + vehicle * b for a, b in zip(random_view, vehicle_view)), mirror=left_hand)
    if domain == "photo":
        lane = _lane_centres(layout, 1)[int(rng.integers(layout.lanes_per_side))]
        return Camera(
            x=lane + float(rng.normal(0, 0.2)), y=float(rng.uniform(1.3, 1.6)), z=float(rng.uniform(-2, 2)),
            yaw=math.radians(rng.uniform(-4, 4)), pitch=math.radians(rng.uniform(-6, 0)),
            hfov=math.radians(rng.uniform(60, 70)),
        )
    raise ValueError(f"unknown domain {domain!r}: expected 'sim' or 'photo'")


def _random_view(layout: Layout, rng: np.random.Generator) -> tuple[float, ...]:
    """(x, y, z, yaw, pitch, hfov, roll) of a SYNTHIA-RAND-like random viewpoint."""
    reach = layout.road_half + 0.8 * layout.sidewalk_width
    return (float(rng.uniform(-reach, reach)), float(rng.uniform(1.2, 6.0)), float(rng.uniform(-5, 5)),
            math.radians(rng.uniform(-70, 70)), math.radians(rng.uniform(-25, 5)), math.radians(rng.uniform(55, 100)),
            0.0)


def _vehicle_view(layout: Layout, rng: np.random.Generator) -> tuple[float, ...]:
    """(x, y, z, yaw, pitch, hfov, roll) of a camera on a car driving in one of the lanes
    along +z (1-2 m high: a car's roof to a van's), with the small yaw, pitch and roll of a
    car that steers, brakes and leans, and the fields of view of common dash cameras."""
    lane = _lane_centres(layout, 1)[int(rng.integers(layout.lanes_per_side))]
    return (lane + float(rng.normal(0, 0.3)), float(rng.uniform(1.0, 2.0)), float(rng.uniform(-5, 15)),
            math.radians(rng.normal(0, 3)), math.radians(rng.uniform(-5, 2)), math.radians(rng.uniform(50, 75)),
            math.radians(rng.normal(0, 1.5)))
