"""A frame of the simulator: the geometric pass (`hits`), then one of the two renderers,
`sim` (`render_sim`: the source domain) or `photo` (`render_photo`: the stand-in for real
photos). Both start from the same geometric pass, so for a given scene and camera their
labels, depth, normals and instance ids are identical; only the pixels differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spigan.sim.draws import PhotoDraws, SimDraws
from spigan.sim.geometry import Camera
from spigan.sim.hits import SKY_DEPTH, Hits, camera_normals, instance_ids, labels_and_depth, trace
from spigan.sim.knobs import SimKnobs
from spigan.sim.render_photo import shade_photo
from spigan.sim.render_sim import shade_sim
from spigan.sim.scene import Scene

__all__ = ["DOMAINS", "SKY_DEPTH", "Frame", "render_view"]

DOMAINS = ("sim", "photo")


@dataclass
class Frame:
    rgb: np.ndarray  # (H, W, 3) uint8
    labels: np.ndarray  # (H, W) uint8, 16-class indices (255 = void)
    depth: np.ndarray  # (H, W) float32 z-buffer depth in metres, SKY_DEPTH for sky
    camera: Camera
    normals: np.ndarray  # (H, W, 3) float32 unit camera-space normals, 0 for the sky (hits.camera_normals)
    instances: np.ndarray  # (H, W) uint16 instance ids, 0 for stuff (hits.instance_ids)


def render_view(scene: Scene, camera: Camera, height: int, width: int, draws: SimDraws | PhotoDraws,
                knobs: SimKnobs | None = None, hits: Hits | None = None) -> Frame:
    """Renders `scene` through `camera` with the `sim` renderer (given `SimDraws`) or the
    `photo` renderer (given `PhotoDraws`).

    `draws` are the renderer's random values for this frame, drawn beforehand
    (`draws.draw_sim`, `draws.draw_photo`); `knobs` tune the `sim` renderer; `hits`, if
    given, is this scene and camera's geometric pass, already traced."""
    hits = hits or trace(scene, camera, height, width)
    labels, depth = labels_and_depth(hits)
    if isinstance(draws, SimDraws):
        rgb = shade_sim(scene, hits, draws, knobs or SimKnobs())
    else:
        rgb = shade_photo(scene, hits, draws)
    return Frame(rgb=rgb, labels=labels, depth=depth, camera=camera, normals=camera_normals(hits),
                 instances=instance_ids(hits))
