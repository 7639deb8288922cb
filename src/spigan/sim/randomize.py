"""Domain randomisation for the `sim` renderer (Tobin et al. 2017; Tremblay et al. 2018):
at strength s in [0, 1], a share s of the objects get a random texture (two random colours
in a random pattern), every other object's colour is jittered by up to s, and about 8 s
random shapes float in front of the camera as distractors. They are labelled void (255),
so they teach T nothing about any class, only to look past clutter. Lighting and exposure
ranges widen in `environment` and `render`."""

from __future__ import annotations

import math

import numpy as np

from spigan.ontology import IGNORE
from spigan.sim import textures as tx
from spigan.sim.geometry import Box, Camera, Cylinder, Ellipsoid, Primitive
from spigan.sim.hits import Hits
from spigan.sim.color import srgb
from spigan.sim.materials import Surfaces

DISTRACTOR = "distractor"


def distractors(camera: Camera, rng: np.random.Generator, strength: float, first_id: int) -> list[Primitive]:
    """About 8 x `strength` random boxes, cylinders and ellipsoids in the camera's view,
    2-30 m away, of random size and colour, labelled void."""
    out: list[Primitive] = []
    right, up, forward = camera.basis()
    half_w = math.tan(camera.hfov / 2)
    for k in range(int(rng.poisson(8 * strength))):
        u, v = rng.uniform(-1, 1) * half_w, rng.uniform(-0.6, 0.6) * half_w
        distance = float(np.exp(rng.uniform(math.log(2), math.log(30))))
        size = rng.uniform(0.1, 0.1 + 0.08 * distance, 3)
        center = camera.position + distance * (forward + u * right + v * up)
        center[1] = max(center[1], size[1])  # above the road
        common = dict(label=IGNORE, material=DISTRACTOR, color=tuple(float(c) for c in rng.random(3)),
                      object_id=first_id + k, center=center, yaw=float(rng.uniform(0, 2 * math.pi)))
        shape = int(rng.integers(3))
        if shape == 0:
            out.append(Box(**common, half=size))
        elif shape == 1:
            out.append(Cylinder(**common, radius=float(size[0]), half_length=float(size[1]), axis=int(rng.integers(3))))
        else:
            out.append(Ellipsoid(**common, radii=size))
    return out


def randomize_surfaces(surfaces: Surfaces, hits: Hits, salt: int, strength: float) -> None:
    """Random textures on a share `strength` of the objects, colour jitter on the rest (in
    place); `salt` makes the choices per frame."""
    n = len(hits.pid)
    if not n or strength <= 0:
        return
    ids = hits.table.object_id

    def per_object(key: int) -> np.ndarray:
        return tx._lattice(ids, np.full(len(ids), key, dtype=np.int64), salt)[hits.pid]

    chosen = per_object(1) < strength
    # Jitter: brightness by up to 2^(+-s), each channel by up to +-s/2.
    gain = 2 ** (strength * (2 * per_object(2) - 1))[:, None]
    tint = 1 + strength * (np.stack([per_object(3 + c) for c in range(3)], axis=1) - 0.5)
    surfaces.albedo[:] = np.clip(surfaces.albedo * gain * tint, 0, 1)
    s = np.flatnonzero(chosen)
    if s.size:
        first = srgb(np.stack([per_object(10 + c)[s] for c in range(3)], axis=1))
        second = srgb(np.stack([per_object(20 + c)[s] for c in range(3)], axis=1))
        scale = 2 ** (5 * per_object(30)[s] - 2)  # pattern sizes from 4 m to 8 cm
        kind = (per_object(31)[s] * 3).astype(np.int64)
        local = hits.local[s] * scale[:, None]
        a, b = local[:, 0] + local[:, 2], local[:, 1] + 0.5 * local[:, 2]
        noise = tx.value_noise(a, b, 191) > 0.5
        stripes = np.mod(a + b, 1.0) < 0.5
        checks = (np.floor(a) + np.floor(b)) % 2 == 0
        pattern = np.choose(kind, [noise, stripes, checks])
        surfaces.albedo[s] = np.where(pattern[:, None], first, second)
        surfaces.through[s] = 0.0
