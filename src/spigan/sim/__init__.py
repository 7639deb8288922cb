"""The built-in street-scene simulator: procedural scenes, ray casting, two renderers.

Entry points:
    render_frame(seed, index, height, width, domain, knobs) -> Frame
    check_render_memory(height, width, what): refuses, in one line, sizes that cannot fit
    render_pair(seed, index, height, width) -> (sim Frame, photo Frame) of one scene and camera
    SimDataset: a cached split of frames.

This package renders arrays only; it does not import models or training code.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from spigan.cpus import check_memory
from spigan.sim.draws import draw_photo, draw_sim
from spigan.sim.geometry import Camera
from spigan.sim.hits import Hits, trace
from spigan.sim.knobs import SimKnobs
from spigan.sim.randomize import distractors
from spigan.sim.render import DOMAINS, SKY_DEPTH, Frame, render_view
from spigan.sim.scene import Scene, generate_scene, sample_camera
from spigan.sim.table import PrimitiveTable

__all__ = ["Camera", "DOMAINS", "SKY_DEPTH", "Frame", "Scene", "SimKnobs", "render_frame", "render_pair", "render_view",
           "frame_streams", "sim_view", "check_render_memory"]

_DOMAIN_CODE = {"sim": 1, "photo": 2}
# A frame is degenerate when one object covers more than this share of it.
DEGENERATE_SHARE = 0.7
_CAMERA_ATTEMPTS = 20
# Peak memory of rendering one frame, per pixel: 520-640 bytes measured for both renderers
# (ray, hit and shading arrays in float64); rounded up, so that sizes that cannot fit are
# refused before work starts.
RENDER_BYTES_PER_PIXEL = 1024


def check_render_memory(height: int, width: int, what: str, figure_panels: int = 0) -> None:
    """A one-line SpiganError, starting with `what`, where rendering one `height` x `width`
    frame (and keeping `figure_panels` RGBA pictures of that size in a figure besides, as
    `spigan sim preview` does) needs more memory than is available."""
    check_memory(height * width * (RENDER_BYTES_PER_PIXEL + 4 * figure_panels), what)


def frame_streams(seed: int, index: int, domain: str) -> tuple[np.random.Generator, ...]:
    """Independent random streams for a frame: the scene (shared by both domains at the
    same seed and index), the camera, the renderer's effects (domain-specific; all drawn
    up front, `draws`) and the `sim` renderer's distractors."""
    if domain not in _DOMAIN_CODE:
        raise ValueError(f"unknown domain {domain!r}: expected one of {DOMAINS}")
    scene = np.random.default_rng([seed, index, 0])
    camera = np.random.default_rng([seed, index, _DOMAIN_CODE[domain], 1])
    effects = np.random.default_rng([seed, index, _DOMAIN_CODE[domain], 2])
    clutter = np.random.default_rng([seed, index, _DOMAIN_CODE[domain], 3])
    return scene, camera, effects, clutter


def render_frame(seed: int, index: int, height: int, width: int, domain: str, knobs: SimKnobs | None = None) -> Frame:
    """The frame `index` of the stream `seed` in `domain`: deterministic, byte for byte, for
    given (seed, index, size, domain, knobs). `knobs` tune the `sim` renderer only."""
    scene_rng, camera_rng, effects_rng, clutter_rng = frame_streams(seed, index, domain)
    scene = generate_scene(scene_rng)
    if domain == "photo":
        camera = sample_camera(scene.layout, camera_rng, "photo")
        return render_view(scene, camera, height, width, draw_photo(effects_rng, height, width))
    knobs = knobs or SimKnobs()
    draws = draw_sim(effects_rng, knobs.randomization)
    scene, camera, hits = sim_view(scene, camera_rng, clutter_rng, height, width, knobs)
    return render_view(scene, camera, height, width, draws, knobs, hits)


def sim_view(scene: Scene, camera_rng: np.random.Generator, clutter_rng: np.random.Generator, height: int,
             width: int, knobs: SimKnobs) -> tuple[Scene, Camera, Hits]:
    """A `sim` camera for `scene`, the scene with the domain randomisation's distractors in
    that camera's view, and its trace. While one object would fill more than
    `DEGENERATE_SHARE` of the frame (a wall, a bus, the road itself, a distractor), the
    camera and distractors are drawn again, unless `knobs.degenerate`."""
    first_id = 1 + int(scene.table.object_id.max())
    for _ in range(_CAMERA_ATTEMPTS):
        camera = sample_camera(scene.layout, camera_rng, "sim", knobs.camera)
        seen = scene
        if knobs.randomization > 0:
            clutter = distractors(camera, clutter_rng, knobs.randomization, first_id)
            seen = replace(scene, table=scene.table.concat(PrimitiveTable.of(clutter)))
        hits = trace(seen, camera, height, width)
        if knobs.degenerate or not is_degenerate(hits):
            break
    return seen, camera, hits


def is_degenerate(hits: Hits) -> bool:
    """Whether one object covers more than `DEGENERATE_SHARE` of the frame."""
    objects = hits.table.object_id[hits.pid]
    return bool(objects.size) and np.bincount(objects).max() > DEGENERATE_SHARE * hits.depth.size


def render_pair(seed: int, index: int, height: int, width: int, camera_domain: str = "photo",
                knobs: SimKnobs | None = None) -> tuple[Frame, Frame]:
    """One scene seen through one camera (drawn from `camera_domain`), drawn by both renderers."""
    scene_rng, camera_rng, effects_rng, clutter_rng = frame_streams(seed, index, camera_domain)
    scene = generate_scene(scene_rng)
    knobs = knobs or SimKnobs()
    sim_draws, photo_draws = draw_sim(effects_rng, knobs.randomization), draw_photo(effects_rng, height, width)
    if camera_domain == "sim":
        scene, camera, hits = sim_view(scene, camera_rng, clutter_rng, height, width, knobs)
    else:
        camera = sample_camera(scene.layout, camera_rng, camera_domain)
        hits = trace(scene, camera, height, width)
    return (render_view(scene, camera, height, width, sim_draws, knobs, hits),
            render_view(scene, camera, height, width, photo_draws, hits=hits))
