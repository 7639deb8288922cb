"""The two renderers of the simulator: `sim` (the source domain) and `photo` (the stand-in
for real photos). Both start from the same geometric pass (`hits`), so for a given scene and
camera their labels, depth, normals and instance ids are identical; only the pixels differ.

- `sim`: SYNTHIA-like, rich but plainly synthetic: procedural textured materials with
  per-object variation (`materials`), the sun with cast shadows and contact shadows, sky
  light, sky models, weather, seasons and times of day (`environment`), Fresnel
  reflections on glass, paint and wet roads, and a clean auto-exposing camera (no noise,
  blur or compression). Optional domain randomisation (`randomize`).
- `photo`: its own materials, sun with cast shadows, sky gradient and clouds, specular
  paint and glass, depth-dependent haze, and a camera: white balance, exposure and tone
  curve, vignetting, slight blur, sensor noise and JPEG compression.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from spigan.sim import textures as tx
from spigan.sim.environment import Environment, sample_environment
from spigan.sim.geometry import Camera, Ground, cast_shadows
from spigan.sim.hits import (
    SKY_DEPTH,
    Hits,
    camera_normals,
    facade_masks,
    glass_mask,
    instance_ids,
    labels_and_depth,
    lamp_index,
    markings,
    trace,
)
from spigan.sim.knobs import SimKnobs
from spigan.sim.materials import Surfaces, sim_surfaces
from spigan.sim.randomize import randomize_surfaces
from spigan.sim.scene import Scene

__all__ = ["DOMAINS", "SKY_DEPTH", "Frame", "render", "shade_sim", "shade_photo"]

DOMAINS = ("sim", "photo")
ANTIALIAS_SIGMA = 0.5  # pixels
# The exposure maps the frame's mean luminance to this; through the tone curve below that
# is display grey 118, where a camera's meter puts a scene that averages 18% grey.
KEY = 0.12


@dataclass
class Frame:
    rgb: np.ndarray  # (H, W, 3) uint8
    labels: np.ndarray  # (H, W) uint8, 16-class indices (255 = void)
    depth: np.ndarray  # (H, W) float32 z-buffer depth in metres, SKY_DEPTH for sky
    camera: Camera
    normals: np.ndarray  # (H, W, 3) float32 unit camera-space normals, 0 for the sky (hits.camera_normals)
    instances: np.ndarray  # (H, W) uint16 instance ids, 0 for stuff (hits.instance_ids)


def render(scene: Scene, camera: Camera, height: int, width: int, domain: str, rng: np.random.Generator,
           knobs: SimKnobs | None = None, hits: Hits | None = None) -> Frame:
    """Renders `scene` through `camera` with the `sim` or `photo` renderer.

    `rng` drives only the renderer's own random draws (the `sim` renderer's lighting,
    weather and season; the photo camera's effects); `knobs` tune the `sim` renderer;
    `hits`, if given, is this scene and camera's geometric pass, already traced."""
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}: expected one of {DOMAINS}")
    hits = hits or trace(scene, camera, height, width)
    labels, depth = labels_and_depth(hits)
    if domain == "sim":
        rgb = shade_sim(scene, hits, rng, knobs or SimKnobs())
    else:
        rgb = shade_photo(scene, hits, rng)
    return Frame(rgb=rgb, labels=labels, depth=depth, camera=camera, normals=camera_normals(hits),
                 instances=instance_ids(hits))


# ---------------------------------------------------------------------------------------
# `sim`: textured materials, sun, sky and cast shadows, weather and seasons, a clean camera
# ---------------------------------------------------------------------------------------


def shade_sim(scene: Scene, hits: Hits, rng: np.random.Generator, knobs: SimKnobs) -> np.ndarray:
    """The `sim` look: SYNTHIA-like, rich but plainly synthetic (no sensor noise, blur or
    compression: those belong to the photo renderer's camera)."""
    h, w = hits.depth.shape
    env = sample_environment(rng, knobs.randomization)
    surfaces = sim_surfaces(hits, env, salt=int(rng.integers(1 << 30)))
    randomize_surfaces(surfaces, hits, rng, knobs.randomization)
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
    return _expose(image.astype(np.float64), rng, knobs.randomization)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.sqrt((v * v).sum(1, keepdims=True))


def _light(hits: Hits, surfaces: Surfaces, env: Environment, sky_view: np.ndarray) -> np.ndarray:
    """(n, 3) radiance of every hit: sun (with cast shadows) and sky light (through the
    street canyon's `sky_view`) on the albedo,
    Fresnel-weighted mirror reflections of the sky on glossy surfaces, lit lamps, the sky
    through sparse crowns, and aerial perspective."""
    n, points = hits.normals, hits.points
    materials = hits.materials
    facing = np.clip(n @ env.to_sun, 0, None)
    if env.sun.max() > 0.02:
        casters = [p for p in hits.prims if not isinstance(p, Ground) and p.material != "pavement"]
        cand = np.flatnonzero(facing > 0)
        facing[cand[cast_shadows(points[cand] + 0.02 * n[cand], env.to_sun, casters)]] = 0.0
    ambient = env.ambient(n, sky_view)
    # Contact shadows: the street under a vehicle sees almost no sky.
    vehicles = [p for p in hits.prims if p.material in ("car_paint", "bus_body")]
    street = hits.of("asphalt", "pavement")
    street = street[n[street, 1] > 0.5]
    if vehicles and street.size:
        under = cast_shadows(points[street] + 0.02 * n[street], np.array([0.0, 1.0, 0.0]), vehicles)
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
    fade = np.exp(-hits.distance() / env.visibility)[:, None]
    return color * fade + env.horizon * (1 - fade)


def _expose(image: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """An auto-exposing camera: an averaging meter maps the frame's mean luminance to `KEY`
    (give or take half a stop), then a filmic curve with a toe and a shoulder (Narkowicz's
    fit of ACES) and the sRGB gamma. With domain randomisation, the key, white balance and
    contrast vary more."""
    luminance = image @ np.array([0.2126, 0.7152, 0.0722])
    key = KEY * 2 ** (rng.uniform(-0.5, 0.5) * (1 + 2 * strength))
    x = image * (key / float(luminance.mean()))
    if strength > 0:
        x = x * 2 ** (strength * rng.uniform(-0.5, 0.5, 3))  # white balance
    x = x * (2.51 * x + 0.03) / (x * (2.43 * x + 0.59) + 0.14)
    curve = _GAMMA
    if strength > 0:
        curve = np.clip(0.5 + (curve - 0.5) * 2 ** (strength * rng.uniform(-0.5, 0.5)), 0, 1)  # contrast
    # The display curve through a table: finer steps than uint8's, no pow() per pixel.
    return _to_uint8(curve[(np.clip(x, 0, 1) * (len(curve) - 1) + 0.5).astype(np.int64)])


_GAMMA = np.linspace(0, 1, 4096) ** (1 / 2.2)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)


# ---------------------------------------------------------------------------------------
# `photo`: materials, sun and shadows, sky, haze, camera
# ---------------------------------------------------------------------------------------


def _linear(c) -> np.ndarray:
    return np.asarray(c, dtype=np.float64) ** 2.2


def shade_photo(scene: Scene, hits: Hits, rng: np.random.Generator) -> np.ndarray:
    h, w = hits.depth.shape
    app = scene.appearance
    overcast = app["overcast"] > 0.5
    materials = np.asarray([p.material for p in hits.prims])[hits.pid]
    albedo, gloss = _albedo(hits, materials)

    # Light: the sun (blocked by shadows) plus sky and ground-bounce ambient.
    sun = scene.to_sun
    n = hits.normals
    facing = np.clip(n @ sun, 0, None)
    lit = np.ones(len(n))
    if not overcast:
        # Curbs (pavement boxes) are left out: their shadows are thinner than a pixel.
        casters = [p for p in hits.prims if not isinstance(p, Ground) and p.material != "pavement"]
        cand = np.flatnonzero(facing > 0)
        shadowed = cast_shadows(hits.points[cand] + 0.02 * n[cand], sun, casters)
        lit[cand[shadowed]] = 0.0
    sun_rgb = np.array([1.0, 0.95, 0.85]) * (0.6 if overcast else 2.6)
    sky_amb = np.array([0.55, 0.62, 0.75]) * (1.1 if overcast else 0.6)
    ambient = sky_amb * (0.55 + 0.45 * n[:, 1:2]) + 0.08
    color = albedo * (sun_rgb * (facing * lit)[:, None] + ambient)

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
    distance = hits.depth.ravel()[hits.flat] * np.linalg.norm(hits.rays.reshape(-1, 3)[hits.flat], axis=1)
    fade = np.exp(-distance / app["visibility"])[:, None]
    color = color * fade + horizon * (1 - fade)

    image = np.empty((h * w, 3))
    sky = np.ones(h * w, dtype=bool)
    sky[hits.flat] = False
    image[sky] = _sky(scene, hits.rays.reshape(-1, 3)[sky], horizon)
    image[hits.flat] = color
    return _camera_effects(image.reshape(h, w, 3), rng)


def _albedo(hits: Hits, materials: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) linear albedo and (n,) glossiness of every hit, material by material."""
    n = len(materials)
    albedo = np.empty((n, 3))
    gloss = np.zeros(n)
    base = _linear(np.asarray([p.color for p in hits.prims]))[hits.pid] if n else np.zeros((0, 3))
    p, local = hits.points, hits.local
    oid = np.asarray([q.object_id for q in hits.prims])[hits.pid] if n else np.zeros(0, dtype=np.int64)

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
        face = _linear(hits.param("face", (0.6, 0.6, 0.6), s))
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
        zenith = _linear(app["sky_color"]) * 0.9
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


def _camera_effects(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Linear radiance (H, W, 3) -> a uint8 photo through a simple camera model."""
    h, w, _ = image.shape
    wb = 1 + rng.normal(0, 0.06, 3)  # white balance error
    exposure = float(rng.uniform(0.8, 1.4))
    yy, xx = np.mgrid[0:h, 0:w]
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (w / 2)) ** 2
    vignette = 1 - float(rng.uniform(0.15, 0.4)) * r2
    x = image * wb * exposure * vignette[..., None]
    x = 1 - np.exp(-1.6 * x)  # filmic shoulder
    x = np.clip(x, 0, 1) ** (1 / 2.2)
    contrast = float(rng.uniform(0.9, 1.2))
    x = np.clip(0.5 + (x - 0.5) * contrast, 0, 1).astype(np.float32)
    sigma = float(rng.uniform(0.4, 0.9))
    x = cv2.GaussianBlur(x, (0, 0), sigmaX=sigma)
    noise = rng.normal(0, 1, x.shape).astype(np.float32)
    x = x + noise * (0.008 + 0.02 * np.sqrt(np.clip(x, 0, 1)))
    rgb = _to_uint8(x)
    quality = int(rng.integers(40, 85))
    ok, buf = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok, "OpenCV could not JPEG-encode a frame"
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])
