"""The simulator's fast paths give the bits of the plain code they stand for (batched primary
casting, the one-primitive-at-a-time loop; `cross`, np.cross), so that frame caches stay
valid without a new SIM_VERSION."""

import math

import numpy as np
import pytest

import spigan.sim.hits
from spigan.sim import SimKnobs, render_frame
from spigan.sim import casting
from spigan.sim.casting import cast_in_order, cast_primary
from spigan.sim.geometry import Box, Camera, Cylinder, Ellipsoid, Ground, cross
from spigan.sim.table import PrimitiveTable

CHANNELS = ("rgb", "labels", "depth", "normals", "instances")


FRAMES = [(seed, index, size, domain, randomization) for size in ((64, 128), (96, 128))
          for domain, randomization in (("sim", 0.0), ("sim", 1.0), ("photo", 0.0))
          for seed, index in ((3, 0), (11, 5))]


def test_frames_are_those_of_the_plain_code(monkeypatch):
    fast = {f: render_frame(f[0], f[1], *f[2], f[3], SimKnobs(randomization=f[4])) for f in FRAMES}
    monkeypatch.setattr(spigan.sim.hits, "cast_primary", cast_in_order)
    for f, frame in fast.items():
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


def test_cross_keeps_the_bits_of_numpys():
    for a, b in np.random.default_rng(2).normal(size=(200, 2, 3)):
        assert cross(a, b).tobytes() == np.cross(a, b).tobytes()

