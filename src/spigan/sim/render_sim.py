"""The `sim` renderer (the source domain): SYNTHIA-like, rich but plainly synthetic:
procedural textured materials with per-object variation (`materials`), the sun with cast
shadows and contact shadows, sky light, sky models, weather, seasons and times of day
(`environment`), Fresnel reflections on glass, paint and wet roads, and a clean
auto-exposing camera (no noise, blur or compression). Optional domain randomisation
(`randomize`). Shadows and haze come from `lighting`, shared with the `photo` renderer.
"""

from __future__ import annotations

import cv2
import numpy as np

from spigan.sim import textures as tx
from spigan.sim.color import GAMMA_TABLE, to_uint8
from spigan.sim.draws import SimDraws
from spigan.sim.environment import Environment
from spigan.sim.hits import Hits, lamp_index
from spigan.sim.knobs import SimKnobs
from spigan.sim.lighting import haze, shadowed, sunlight
from spigan.sim.materials import Surfaces, sim_surfaces
from spigan.sim.randomize import randomize_surfaces
from spigan.sim.scene import Scene

ANTIALIAS_SIGMA = 0.5  # pixels
# The exposure maps the frame's mean luminance to this; through the tone curve below that
# is display grey 118, where a camera's meter puts a scene that averages 18% grey.
KEY = 0.12


def shade_sim(scene: Scene, hits: Hits, draws: SimDraws, knobs: SimKnobs) -> np.ndarray:
    """The `sim` look: SYNTHIA-like, rich but plainly synthetic (no sensor noise, blur or
    compression: those belong to the photo renderer's camera). `draws`: the frame's random
    values (`draws.draw_sim`)."""
    h, w = hits.depth.shape
    env = draws.env
    surfaces = sim_surfaces(hits, env, draws.salt)
    randomize_surfaces(surfaces, hits, draws.randomize_salt, knobs.randomization)
    sky = np.ones(h * w, dtype=bool)
    sky[hits.flat] = False
    rays = hits.rays.reshape(-1, 3)
    image = np.empty((h * w, 3))
    image[sky] = env.sky(_unit(rays[sky]))
    image[hits.flat] = _light(hits, surfaces, env, scene.sky_view(hits.points, hits.normals))
    # One ray per pixel aliases edges and fine patterns; a game engine like SYNTHIA's
    # anti-aliases them. A slight Gaussian (the pixel filter of a supersampling renderer)
    # does the same for a fraction of the cost. Labels and depth stay those of the pixel centres.
    image = cv2.GaussianBlur(image.reshape(h, w, 3).astype(np.float32), (0, 0), ANTIALIAS_SIGMA)
    return _expose(image.astype(np.float64), draws, knobs.randomization)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.sqrt((v * v).sum(1, keepdims=True))


def _light(hits: Hits, surfaces: Surfaces, env: Environment, sky_view: np.ndarray) -> np.ndarray:
    """(n, 3) radiance of every hit: sun (with cast shadows) and sky light (through the
    street canyon's `sky_view`) on the albedo,
    Fresnel-weighted mirror reflections of the sky on glossy surfaces, lit lamps, the sky
    through sparse crowns, and aerial perspective."""
    n = hits.normals
    materials = hits.materials
    facing, _ = sunlight(hits, env.to_sun, shadows=env.sun.max() > 0.02)
    ambient = env.ambient(n, sky_view)
    # Contact shadows: the street under a vehicle sees almost no sky.
    vehicles = hits.table.rows_of("car_paint", "bus_body")
    street = hits.of("asphalt", "pavement")
    street = street[n[street, 1] > 0.5]
    if vehicles.size and street.size:
        under = shadowed(hits, street, np.array([0.0, 1.0, 0.0]), vehicles)
        ambient[street[under]] *= 0.3
        facing[street[under]] *= 0.3
    color = surfaces.albedo * (env.sun * facing[:, None] + ambient)

    view = _unit(hits.rays.reshape(-1, 3)[hits.flat])
    glossy = np.flatnonzero(surfaces.gloss > 0.05)
    if glossy.size:
        v, m = view[glossy], n[glossy]
        cos = np.clip(-(v * m).sum(1), 0, 1)
        reflectance = surfaces.gloss[glossy] * (0.08 + 0.92 * tx.ipow(1 - cos, 5))  # Schlick's Fresnel
        mirror = v + 2 * cos[:, None] * m
        seen = np.where((mirror[:, 1] > 0)[:, None], env.sky(mirror), 0.4 * env.ambient(-m))
        half_vec = _unit(env.to_sun - v)
        highlight = tx.ipow(np.clip((m * half_vec).sum(1), 0, 1), 80) * (facing[glossy] > 0) * 4.0
        color[glossy] = color[glossy] * (1 - reflectance[:, None]) + reflectance[:, None] * seen \
            + (surfaces.gloss[glossy] * highlight)[:, None] * env.sun

    lamps = lamp_index(hits, materials)
    color[lamps >= 0] = 2.0 * tx.LAMP_COLORS[lamps[lamps >= 0]]
    through = np.flatnonzero(surfaces.through > 0)
    if through.size:
        t = surfaces.through[through, None]
        color[through] = color[through] * (1 - t) + env.sky(view[through]) * t
    return haze(color, hits.distance(), env.visibility, env.horizon)


def _expose(image: np.ndarray, draws: SimDraws, strength: float) -> np.ndarray:
    """An auto-exposing camera: an averaging meter maps the frame's mean luminance to `KEY`
    (give or take half a stop), then a filmic curve with a toe and a shoulder (Narkowicz's
    fit of ACES) and the sRGB gamma. With domain randomisation, the key, white balance and
    contrast vary more."""
    luminance = image @ np.array([0.2126, 0.7152, 0.0722])
    key = KEY * 2 ** (draws.key_stops * (1 + 2 * strength))
    x = image * (key / float(luminance.mean()))
    if strength > 0:
        x = x * 2 ** (strength * draws.white_balance)
    x = x * (2.51 * x + 0.03) / (x * (2.43 * x + 0.59) + 0.14)
    curve = GAMMA_TABLE
    if strength > 0:
        curve = np.clip(0.5 + (curve - 0.5) * 2 ** (strength * draws.contrast), 0, 1)
    return to_uint8(curve[(np.clip(x, 0, 1) * (len(curve) - 1) + 0.5).astype(np.int64)])
