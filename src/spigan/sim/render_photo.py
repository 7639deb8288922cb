"""The `photo` renderer (the stand-in for real photos): its own materials, the sun with cast
shadows, a sky gradient and clouds, specular paint and glass, depth-dependent haze, and a
camera: white balance, exposure and tone curve, vignetting, slight blur, sensor noise and
JPEG compression. Shadows and haze come from `lighting`, shared with the `sim` renderer.
"""

from __future__ import annotations

import cv2
import numpy as np

from spigan.sim import textures as tx
from spigan.sim.color import srgb, to_uint8
from spigan.sim.draws import PhotoDraws
from spigan.sim.hits import Hits, facade_masks, glass_mask, lamp_index, markings
from spigan.sim.lighting import haze, sunlight
from spigan.sim.scene import Scene


def shade_photo(scene: Scene, hits: Hits, draws: PhotoDraws) -> np.ndarray:
    """The `photo` look; `draws`: the frame's camera values (`draws.draw_photo`)."""
    h, w = hits.depth.shape
    app = scene.appearance
    overcast = app["overcast"] > 0.5
    materials = hits.materials
    albedo, gloss = _albedo(hits, materials)

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


def _albedo(hits: Hits, materials: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) linear albedo and (n,) glossiness of every hit, material by material."""
    n = len(materials)
    albedo = np.empty((n, 3))
    gloss = np.zeros(n)
    base = srgb(hits.table.color)[hits.pid]
    p, local = hits.points, hits.local
    oid = hits.table.object_id[hits.pid]

    def pick(name):
        return np.flatnonzero(materials == name)

    s = pick("asphalt")
    if s.size:
        x, z = p[s, 0], p[s, 2]
        grain = tx.value_noise(x * 25, z * 25, 3) - 0.5
        patches = tx.fbm(x * 0.25, z * 0.25, 4, octaves=3)
        v = 0.055 + 0.05 * patches + 0.025 * grain
        albedo[s] = v[:, None] * np.array([1.0, 1.0, 1.05])
        paint = markings(hits, s) & (tx.value_noise(x * 4, z * 4, 5) > 0.25)
        albedo[s[paint]] = 0.5 + 0.1 * grain[paint, None]
    s = pick("pavement")
    if s.size:
        x, z = p[s, 0], p[s, 2]
        top = hits.normals[s, 1] > 0.5
        tile = 0.5
        tx_i, tz_i = np.floor(x / tile).astype(np.int64), np.floor(z / tile).astype(np.int64)
        per_tile = tx._lattice(tx_i, tz_i, 11)
        grout = (np.mod(x / tile, 1) < 0.05) | (np.mod(z / tile, 1) < 0.05)
        v = 0.16 + 0.06 * per_tile - 0.06 * grout + 0.03 * (tx.value_noise(x * 20, z * 20, 12) - 0.5)
        v = np.where(top, v, 0.22 + 0.04 * tx.value_noise(z * 3, p[s, 1] * 3, 13))  # curb stone
        albedo[s] = v[:, None] * np.array([1.0, 0.97, 0.92])
    s = pick("facade")
    if s.size:
        axis, windows, shops = facade_masks(hits, s)
        half = hits.attr("half", s)
        _, along, height = tx.box_face(local[s], half)
        stain = 0.75 + 0.5 * tx.fbm(along * 0.4 + oid[s], height * 0.4, 21, octaves=3)
        bands = np.where(np.mod(height / hits.param("floor", 3.0, s), 1.0) < 0.06, 0.8, 1.0)
        albedo[s] = base[s] * 0.75 * (stain * bands)[:, None]
        roof = axis == 1
        albedo[s[roof]] = 0.08
        glass = (windows | shops) & ~roof
        reflect = 0.02 + 0.03 * tx.value_noise(along[glass] * 0.7, height[glass] * 0.3 + oid[s][glass], 22)
        albedo[s[glass]] = reflect[:, None] * np.array([0.9, 1.0, 1.15])
        gloss[s[glass]] = 1.0
    s = pick("wall")
    if s.size:
        v = 0.7 + 0.5 * tx.fbm(p[s, 0] * 0.8 + p[s, 2] * 0.8, p[s, 1] * 0.8, 31, octaves=3)
        albedo[s] = base[s] * 0.7 * v[:, None]
    s = pick("fence")
    if s.size:
        along = local[s, 2]
        bars = np.mod(along / hits.param("spacing", 0.2, s), 1.0) < 0.35
        rails = (np.abs(local[s, 1]) > hits.attr("half", s)[:, 1] - 0.08)
        behind = 0.04 + 0.04 * tx.fbm(p[s, 2] * 2, p[s, 1] * 2, 32, octaves=2)  # seen through the gaps
        albedo[s] = np.where((bars | rails)[:, None], base[s] * 0.6, behind[:, None] * np.array([0.8, 1.0, 0.7]))
    s = pick("metal")
    if s.size:
        albedo[s] = base[s] * 0.6 * (0.85 + 0.3 * tx.value_noise(p[s, 1] * 3, oid[s] * 1.0, 41))[:, None]
        gloss[s] = 0.3
    s = pick("sign")
    if s.size:
        front = hits.normals[s, 2] < -0.5
        face = srgb(hits.param("face", (0.6, 0.6, 0.6), s))
        radial = np.hypot(local[s, 0], local[s, 1])
        border = radial > 0.27
        albedo[s] = np.where(front[:, None], np.where(border[:, None], 0.7, face * 0.8), 0.15)
        gloss[s] = 0.2
    s = pick("traffic_light")
    if s.size:
        albedo[s] = 0.02
        gloss[s] = 0.3
    s = pick("foliage")
    if s.size:
        u = p[s, 0] * 2.5 + p[s, 2] * 2.5
        leaves = tx.fbm(u, p[s, 1] * 2.5, 51, octaves=3)
        holes = tx.value_noise(u * 3, p[s, 1] * 7, 52) < 0.25
        v = (0.4 + 0.9 * leaves) * np.where(holes, 0.35, 1.0)
        albedo[s] = base[s] * 0.45 * v[:, None]
    s = pick("bark")
    if s.size:
        streaks = tx.value_noise(np.arctan2(local[s, 0], local[s, 2]) * 6, p[s, 1] * 0.8, 61)
        albedo[s] = base[s] * (0.3 + 0.4 * streaks)[:, None]
    for name in ("car_paint", "car_cabin", "bus_body"):
        s = pick(name)
        if s.size:
            albedo[s] = base[s] * 0.8
            gloss[s] = 0.6
    s = np.flatnonzero((materials == "car_cabin") | (materials == "bus_body"))
    if s.size:
        glass = glass_mask(hits, s, materials[s])
        albedo[s[glass]] = 0.02
        gloss[s[glass]] = 1.0
    s = pick("tyre")
    if s.size:
        albedo[s] = 0.025
    s = pick("cloth")
    if s.size:
        v = 0.7 + 0.6 * tx.value_noise(p[s, 1] * 6, (p[s, 0] + p[s, 2]) * 6, 71)
        albedo[s] = base[s] * 0.7 * v[:, None]
    s = pick("skin")
    if s.size:
        albedo[s] = base[s] * 0.8
    # Domain randomisation's distractors (in `render_pair` through a `sim` camera): their
    # flat colour. Without this they were left uninitialised (np.empty): garbage pixels.
    s = pick("distractor")
    if s.size:
        albedo[s] = base[s]
    return albedo, gloss


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
    x = np.clip(x, 0, 1) ** (1 / 2.2)
    x = np.clip(0.5 + (x - 0.5) * draws.contrast, 0, 1).astype(np.float32)
    x = cv2.GaussianBlur(x, (0, 0), sigmaX=draws.blur_sigma)
    x = x + draws.noise * (0.008 + 0.02 * np.sqrt(np.clip(x, 0, 1)))
    rgb = to_uint8(x)
    ok, buf = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, draws.jpeg_quality])
    assert ok, "OpenCV could not JPEG-encode a frame"
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])
