"""The built-in street-scene simulator: procedural scenes, ray casting, two renderers.

Entry points:
    render_frame(seed, index, height, width, domain) -> Frame
    render_pair(seed, index, height, width) -> (sim Frame, photo Frame) of one scene and camera
    SimDataset: a cached split of frames.

This package renders arrays only; it does not import models or training code.
"""

from __future__ import annotations

import numpy as np

from spigan.sim.geometry import Camera
from spigan.sim.render import DOMAINS, SKY_DEPTH, Frame, render
from spigan.sim.scene import Scene, generate_scene, sample_camera

__all__ = ["Camera", "DOMAINS", "SKY_DEPTH", "Frame", "Scene", "render_frame", "render_pair", "frame_streams"]

_DOMAIN_CODE = {"sim": 1, "photo": 2}


def frame_streams(seed: int, index: int, domain: str) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator]:
    """Independent random streams for a frame: the scene (shared by both domains at the
    same seed and index), the camera, and the renderer's effects (domain-specific)."""
    if domain not in _DOMAIN_CODE:
        raise ValueError(f"unknown domain {domain!r}: expected one of {DOMAINS}")
    scene = np.random.default_rng([seed, index, 0])
    camera = np.random.default_rng([seed, index, _DOMAIN_CODE[domain], 1])
    effects = np.random.default_rng([seed, index, _DOMAIN_CODE[domain], 2])
    return scene, camera, effects


def render_frame(seed: int, index: int, height: int, width: int, domain: str) -> Frame:
    """The frame `index` of the stream `seed` in `domain`: deterministic, byte for byte."""
    scene_rng, camera_rng, effects_rng = frame_streams(seed, index, domain)
    scene = generate_scene(scene_rng)
    camera = sample_camera(scene.layout, camera_rng, domain)
    return render(scene, camera, height, width, domain, effects_rng)


def render_pair(seed: int, index: int, height: int, width: int, camera_domain: str = "photo") -> tuple[Frame, Frame]:
    """One scene seen through one camera (drawn from `camera_domain`), drawn by both renderers."""
    scene_rng, camera_rng, effects_rng = frame_streams(seed, index, camera_domain)
    scene = generate_scene(scene_rng)
    camera = sample_camera(scene.layout, camera_rng, camera_domain)
    return (render(scene, camera, height, width, "sim", effects_rng),
            render(scene, camera, height, width, "photo", effects_rng))
