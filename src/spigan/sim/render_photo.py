"""The `photo` renderer (the stand-in for real photos): its own materials
(`materials_photo`, on the material system of `materials`), the sun with cast shadows, a
sky gradient and clouds, specular paint and glass, depth-dependent haze, and a camera:
white balance, exposure and tone curve, vignetting, slight blur, sensor noise and JPEG
compression. Shadows and haze come from `lighting`, shared with the `sim` renderer.
"""

from __future__ import annotations

import cv2
import numpy as np

from spigan.sim import textures as tx
from spigan.sim.color import srgb, to_display, to_uint8
from spigan.sim.draws import PhotoDraws
from spigan.sim.hits import Hits, lamp_index
from spigan.sim.lighting import haze, sunlight
from spigan.sim.materials_photo import photo_surfaces
from spigan.sim.scene import Scene


def shade_photo(scene: Scene, hits: Hits, draws: PhotoDraws) -> np.ndarray:
    """The `photo` look; `draws`: the frame's camera values (`draws.draw_photo`)."""
    h, w = hits.depth.shape
    app = scene.appearance
    overcast = app["overcast"] > 0.5
    materials = hits.materials
    surfaces = photo_surfaces(hits)
    albedo, gloss = surfaces.albedo, surfaces.gloss

    # Light: the sun (blocked by shadows) plus sky and ground-bounce ambient.
    sun = scene.to_sun
    n = hits.normals
    facing, lit = sunlight(hits, sun, shadows=not overcast)
    sun_rgb = np.array([1.0, 0.95, 0.85]) * (0.6 if overcast else 2.6)
    sky_amb = np.array([0.55, 0.62, 0.75]) * (1.1 if overcast else 0.6)
    ambient = sky_amb * (0.55 + 0.45 * n[:, 1:2]) + 0.08
    color = albedo * (sun_rgb * facing[:, None] + ambient)

    # Specular highlight and sky reflection on paint and glass.
    view = hits.rays.reshape(-1, 3)[hits.flat]
    view = view / np.linalg.norm(view, axis=1, keepdims=True)
    half_vec = sun - view
    half_vec /= np.linalg.norm(half_vec, axis=1, keepdims=True)
    spec = np.clip((n * half_vec).sum(1), 0, 1) ** 60 * lit * (0.2 if overcast else 1.0)
    reflect_up = np.clip((view - 2 * (view * n).sum(1, keepdims=True) * n)[:, 1], 0, 1)
    color += gloss[:, None] * (4.0 * spec[:, None] + 0.35 * reflect_up[:, None] * sky_amb)

    lamps = lamp_index(hits, materials)
    color[lamps >= 0] = 3.0 * tx.LAMP_COLORS[lamps[lamps >= 0]]

    # Aerial perspective: distant surfaces fade towards the horizon colour.
    horizon = np.array([0.62, 0.68, 0.75]) if not overcast else np.array([0.6, 0.6, 0.62])
    color = haze(color, hits.distance(), app["visibility"], horizon)

    image = np.empty((h * w, 3))
    sky = np.ones(h * w, dtype=bool)
    sky[hits.flat] = False
    image[sky] = _sky(scene, hits.rays.reshape(-1, 3)[sky], horizon)
    image[hits.flat] = color
    return _camera_effects(image.reshape(h, w, 3), draws)


def _sky(scene: Scene, rays: np.ndarray, horizon: np.ndarray) -> np.ndarray:
    """(N, 3) linear sky radiance along the rays: gradient, clouds, sun glow."""
    app = scene.appearance
    d = rays / np.linalg.norm(rays, axis=1, keepdims=True)
    up = np.clip(d[:, 1], 0, 1)
    if app["overcast"] > 0.5:
        base = np.array([0.55, 0.56, 0.6]) * (0.9 + 0.2 * up[:, None])
        cover, bright = 0.9, 0.62
    else:
        zenith = srgb(app["sky_color"]) * 0.9
        t = up[:, None] ** 0.5
        base = horizon * (1 - t) + zenith * t
        cover, bright = 0.45, 0.95
    with np.errstate(divide="ignore", invalid="ignore"):
        cu, cv = d[:, 0] / np.maximum(d[:, 1], 0.03), d[:, 2] / np.maximum(d[:, 1], 0.03)
    clouds = tx.fbm(cu * 0.8, cv * 0.8, app["cloud_seed"] % 100000, octaves=4)
    amount = np.clip((clouds - (1 - cover)) * 2.5, 0, 1)[:, None] * (up[:, None] > 0.01)
    sky = base * (1 - amount) + bright * amount
    glow = np.clip(d @ scene.to_sun, 0, 1) ** 64 * (0.0 if app["overcast"] > 0.5 else 2.0)
    return sky + glow[:, None] * np.array([1.0, 0.9, 0.7])


def _camera_effects(image: np.ndarray, draws: PhotoDraws) -> np.ndarray:
    """Linear radiance (H, W, 3) -> a uint8 photo through a simple camera model."""
    h, w, _ = image.shape
    yy, xx = np.mgrid[0:h, 0:w]
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (w / 2)) ** 2
    vignette = 1 - draws.vignette * r2
    x = image * draws.white_balance * draws.exposure * vignette[..., None]
    x = 1 - np.exp(-1.6 * x)  # filmic shoulder
    x = to_display(x)
    x = np.clip(0.5 + (x - 0.5) * draws.contrast, 0, 1).astype(np.float32)
    x = cv2.GaussianBlur(x, (0, 0), sigmaX=draws.blur_sigma)
    x = x + draws.noise * (0.008 + 0.02 * np.sqrt(np.clip(x, 0, 1)))
    rgb = to_uint8(x)
    ok, buf = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, draws.jpeg_quality])
    assert ok, "OpenCV could not JPEG-encode a frame"
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])
