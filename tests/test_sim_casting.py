"""Batched casting gives the frames the one-primitive-at-a-time loops gave, bit for bit:
frame caches stay valid without a new SIM_VERSION."""

import math

import numpy as np
import pytest

import spigan.sim.hits
import spigan.sim.lighting
from spigan.sim import SimKnobs, render_frame
from spigan.sim import casting
from spigan.sim import textures as tx
from spigan.sim.casting import cast_in_order, cast_primary, light_basis
from spigan.sim.geometry import Box, Camera, Cylinder, Ellipsoid, Ground, cross
from spigan.sim.table import PrimitiveTable

CHANNELS = ("rgb", "labels", "depth", "normals", "instances")


def shadows_in_order(points, to_light, table, casters):
    """`cast_shadows` as it was: one caster at a time, each on its slice of the points."""
    shadowed = np.zeros(len(points), dtype=bool)
    if not len(points) or not len(casters):
        return shadowed
    a, b = light_basis(to_light)
    order = np.argsort(points @ a, kind="stable")
    points = points[order]
    pa, pb, pl = points @ a, points @ b, points @ to_light
    corners = table.corners[casters]
    ca, cb = corners @ a, corners @ b
    reach = (corners @ to_light).max(axis=1)
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


def value_noise_by_corner(x, y, seed=0):
    """`textures.value_noise` as it was: one hash call per lattice corner."""
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = x - x0, y - y0
    fx, fy = fx * fx * (3 - 2 * fx), fy * fy * (3 - 2 * fy)
    ix, iy = x0.astype(np.int64), y0.astype(np.int64)
    a, b = tx._lattice(ix, iy, seed), tx._lattice(ix + 1, iy, seed)
    c, d = tx._lattice(ix, iy + 1, seed), tx._lattice(ix + 1, iy + 1, seed)
    top = a + (b - a) * fx
    return top + (c + (d - c) * fx - top) * fy


FRAMES = [(seed, index, size, domain, randomization) for size in ((64, 128), (96, 128))
          for domain, randomization in (("sim", 0.0), ("sim", 1.0), ("photo", 0.0))
          for seed, index in ((3, 0), (11, 5))]


def test_frames_are_those_of_the_loops(monkeypatch):
    batched = {f: render_frame(f[0], f[1], *f[2], f[3], SimKnobs(randomization=f[4])) for f in FRAMES}
    monkeypatch.setattr(spigan.sim.hits, "cast_primary", cast_in_order)
    monkeypatch.setattr(spigan.sim.lighting, "cast_shadows", shadows_in_order)
    for f, frame in batched.items():
        reference = render_frame(f[0], f[1], *f[2], f[3], SimKnobs(randomization=f[4]))
        for channel in CHANNELS:
            new, old = getattr(frame, channel), getattr(reference, channel)
            assert new.dtype == old.dtype and new.tobytes() == old.tobytes(), (f, channel)


def _crowd(rng: np.random.Generator) -> list:
    """Primitives of every kind, yawed and not, some exact duplicates (equal hits: the tie
    rule decides), some spanning many pixels (cast one by one), most a few."""
    prims = [Ground(label=0, material="asphalt", color=(0, 0, 0))]
    for k in range(60):
        center = (float(rng.uniform(-6, 6)), float(rng.uniform(0, 3)), float(rng.uniform(4, 30)))
        yaw = float(rng.choice([0.0, rng.uniform(-np.pi, np.pi)]))
        common = dict(label=2, material="wall", color=(1, 1, 1), object_id=k + 1, center=center, yaw=yaw)
        kind = k % 3
        if kind == 0:
            prims.append(Box(**common, half=rng.uniform(0.1, 2.0, 3)))
        elif kind == 1:
            prims.append(Cylinder(**common, radius=float(rng.uniform(0.05, 1.0)),
                                  half_length=float(rng.uniform(0.1, 2)), axis=int(rng.integers(3))))
        else:
            prims.append(Ellipsoid(**common, radii=rng.uniform(0.1, 1.5, 3)))
        if k % 7 == 0:
            prims.append(prims[-1])  # the same primitive twice: equal t everywhere
    return prims


@pytest.mark.parametrize("batch", [casting.BATCH, 200])
def test_cast_primary_is_the_loop_on_crowds(monkeypatch, batch):
    monkeypatch.setattr(casting, "BATCH", batch)
    rng = np.random.default_rng(5)
    for _ in range(4):
        table = PrimitiveTable.of(_crowd(rng))
        camera = Camera(x=float(rng.uniform(-1, 1)), y=1.5, z=0.0, yaw=float(rng.uniform(-0.3, 0.3)),
                        pitch=float(rng.uniform(-0.2, 0.1)), hfov=math.radians(70), roll=float(rng.uniform(-0.1, 0.1)))
        for h, w in ((48, 64), (64, 128)):
            new, old = cast_primary(camera, table, h, w), cast_in_order(camera, table, h, w)
            for a, b in zip(new, old):
                assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_duplicates_keep_the_first_in_front_to_back_order():
    box = Box(label=2, material="wall", color=(1, 1, 1), center=(0, 0, 10), half=(0.3, 0.3, 0.3))
    table = PrimitiveTable.of([box, box, box])
    camera = Camera(x=0, y=0, z=0, yaw=0, pitch=0, hfov=math.radians(60))
    _, index, _ = cast_primary(camera, table, 32, 32)
    assert set(np.unique(index).tolist()) == {-1, 0}


def test_a_hit_before_its_nearest_corner_hands_the_frame_to_the_loop(monkeypatch):
    # With every nearest corner moved back, hits break the bound early z relies on: the
    # loop, whose skips then matter, must cast the frame.
    screen_rects, loops = casting._screen_rects, []

    def farther(*args):
        rects, nearest = screen_rects(*args)
        return rects, nearest + 0.5

    def loop(*args):
        loops.append(args)
        return cast_in_order(*args)

    monkeypatch.setattr(casting, "_screen_rects", farther)
    monkeypatch.setattr(casting, "cast_in_order", loop)
    table = PrimitiveTable.of(_crowd(np.random.default_rng(1)))
    camera = Camera(x=0, y=1.5, z=0, yaw=0, pitch=-0.1, hfov=math.radians(70))
    new, old = cast_primary(camera, table, 32, 64), cast_in_order(camera, table, 32, 64)
    assert len(loops) == 1 and all(a.tobytes() == b.tobytes() for a, b in zip(new, old))


def test_shadows_are_the_loops():
    rng = np.random.default_rng(8)
    table = PrimitiveTable.of(_crowd(rng))
    casters = np.arange(1, len(table))
    points = np.column_stack([rng.uniform(-8, 8, 3000), rng.uniform(0, 0.5, 3000), rng.uniform(2, 32, 3000)])
    for to_light in ([0.0, 1.0, 0.0], [0.3, 0.8, -0.5], [-0.6, 0.4, 0.7]):
        to_light = np.asarray(to_light) / np.linalg.norm(to_light)
        np.testing.assert_array_equal(casting.cast_shadows(points, to_light, table, casters),
                                      shadows_in_order(points, to_light, table, casters))


def test_cross_and_value_noise_keep_their_bits():
    rng = np.random.default_rng(2)
    for a, b in rng.normal(size=(200, 2, 3)):
        assert cross(a, b).tobytes() == np.cross(a, b).tobytes()
    x, y = rng.uniform(-50, 50, (2, 5000))
    assert tx.value_noise(x, y, 17).tobytes() == value_noise_by_corner(x, y, 17).tobytes()
