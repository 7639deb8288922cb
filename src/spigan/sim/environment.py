"""The `sim` renderer's outdoor lighting: time of day, weather and season, the sky they
make, and the light they shed (SYNTHIA renders its cities in several seasons, weathers and
times of day; so does this). Radiances are linear RGB in arbitrary units: the tone curve
(an auto-exposing camera) fixes the scale, so only their ratios matter.

Domain randomisation (`strength` > 0) widens every range and tints the light and sky
towards random colours, in the spirit of Tobin et al. (2017).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spigan.sim import textures as tx

WEATHERS = ("clear", "cloudy", "overcast", "rain", "fog")
WEATHER_ODDS = (0.35, 0.3, 0.15, 0.1, 0.1)
SEASONS = ("summer", "spring", "autumn", "winter")
SEASON_ODDS = (0.35, 0.2, 0.25, 0.2)
# Optical depth of a clear atmosphere per channel: low suns are redder (Rayleigh scattering).
_EXTINCTION = np.array([0.06, 0.12, 0.26])


@dataclass
class Environment:
    to_sun: np.ndarray  # (3,) unit vector towards the sun
    sun: np.ndarray  # (3,) radiance a white surface facing the sun gets from it; 0 when hidden
    zenith: np.ndarray  # (3,) sky radiance overhead
    horizon: np.ndarray  # (3,) sky radiance at the horizon
    clouds: float  # cloud cover in [0, 1]
    cloud_seed: int
    visibility: float  # haze or fog: distance (m) over which 63% of the light is scattered
    season: str
    wet: float  # 0 dry .. 1 a road that reflects like a mirror
    weather: str

    def sky(self, directions: np.ndarray) -> np.ndarray:
        """(N, 3) sky radiance along unit `directions` (N, 3): a horizon-to-zenith gradient,
        a glow around the sun, and clouds on a plane above the city."""
        up = np.clip(directions[:, 1], 0, 1)
        t = np.sqrt(up)[:, None]
        sky = self.horizon * (1 - t) + self.zenith * t
        toward_sun = np.clip(directions @ self.to_sun, 0, 1)
        if self.sun.any():
            sky = sky + self.sun * (0.6 * tx.ipow(toward_sun, 48) + 0.08 * tx.ipow(toward_sun, 4))[:, None]
        if self.clouds > 0:
            lift = np.maximum(directions[:, 1], 0.04)
            density = tx.fbm(directions[:, 0] / lift * 0.7, directions[:, 2] / lift * 0.7, self.cloud_seed, octaves=4)
            cover = np.clip((density - (1 - self.clouds)) * 3.0, 0, 1) * np.clip(up * 20, 0, 1)
            lit = 0.5 * self.horizon.mean() + 0.35 * self.sun.mean() * (0.5 + 0.5 * toward_sun)
            shade = 0.75 + 0.35 * density  # thicker cloud is darker underneath
            cloud = (lit * shade)[:, None] * np.array([1.0, 1.0, 1.02])
            sky = sky * (1 - cover[:, None]) + cloud * cover[:, None]
        return sky

    def ambient(self, normals: np.ndarray, sky_view: np.ndarray | None = None) -> np.ndarray:
        """(n, 3) light from the sky and the ground bounce on surfaces of unit `normals`:
        upward faces see the whole sky, walls half of it and half of the lit street; the
        part of the sky a street canyon hides (`sky_view` < 1) sends back light like the
        street does."""
        sky = 0.55 * self.zenith + 0.45 * self.horizon
        ground = 0.12 * (self.sun * max(self.to_sun[1], 0.0) + sky)
        k = 0.5 + 0.5 * normals[:, 1:2]
        if sky_view is not None:
            open_sky = k * sky_view[:, None]
            return sky * open_sky + ground * (1 - open_sky)
        return sky * k + ground * (1 - k)


def sample_environment(rng: np.random.Generator, strength: float = 0.0) -> Environment:
    """One time of day, weather and season. `strength` in [0, 1]: domain randomisation."""
    weather = WEATHERS[int(rng.choice(len(WEATHERS), p=WEATHER_ODDS))]
    season = SEASONS[int(rng.choice(len(SEASONS), p=SEASON_ODDS))]
    elevation = math.radians(rng.uniform(6, 65))  # early morning or evening to noon
    azimuth = rng.uniform(0, 2 * math.pi)
    to_sun = np.array([math.cos(elevation) * math.sin(azimuth), math.sin(elevation),
                       math.cos(elevation) * math.cos(azimuth)])
    # Direct sun through the atmosphere; the sky is bluer overhead, paler and warmer low.
    airmass = 1.0 / (math.sin(elevation) + 0.05)
    # A clear day's sun lights a surface facing it about eight times as much as the sky does.
    sun = 1.8 * np.exp(-_EXTINCTION * airmass) * rng.uniform(0.9, 1.1)
    dusk = float(np.clip(1.2 - 4 * math.sin(elevation), 0, 1))  # 1 with the sun near the horizon
    zenith = np.array([0.08, 0.14, 0.32]) * rng.uniform(0.8, 1.2) * (1 - 0.5 * dusk)
    horizon = np.array([0.3, 0.33, 0.36]) * (1 - dusk) + np.array([0.36, 0.26, 0.18]) * dusk
    horizon = horizon * rng.uniform(0.85, 1.15)
    clouds = {"clear": rng.uniform(0, 0.2), "cloudy": rng.uniform(0.35, 0.7)}.get(weather, 0.0)
    visibility = float(np.exp(rng.uniform(np.log(800), np.log(5000))))  # a clear day's haze
    wet = 0.0
    if weather in ("overcast", "rain", "fog"):  # the sun is hidden; the sky is a bright grey
        grey = rng.uniform(0.35, 0.6) * (1 - 0.6 * dusk)
        zenith = np.array([1.0, 1.0, 1.04]) * grey * 1.25
        horizon = np.array([1.0, 1.0, 1.02]) * grey
        sun = sun * (0.0 if weather != "overcast" else rng.uniform(0.0, 0.15))
        if weather == "rain":
            wet = float(rng.uniform(0.4, 1.0))
            visibility = float(rng.uniform(150, 600))
        if weather == "fog":
            visibility = float(rng.uniform(40, 160))
            zenith = horizon * 1.05
    elif weather == "cloudy":
        sun = sun * (rng.uniform(0.3, 1.0) if rng.random() < 0.7 else 0.1)  # sun in or behind cloud
    env = Environment(to_sun, sun, zenith, horizon, float(clouds), int(rng.integers(1 << 20)), visibility, season,
                      wet, weather)
    if strength > 0:
        _randomize(env, rng, strength)
    return env


def _randomize(env: Environment, rng: np.random.Generator, strength: float) -> None:
    """Tints the sun and sky towards random colours and scales their balance (in place)."""
    def tint(color: np.ndarray) -> np.ndarray:
        target = rng.uniform(0.3, 1.0, 3) * color.mean() / 0.65
        return color + strength * rng.random() * (target - color)

    env.sun = tint(env.sun) * 2 ** (strength * rng.uniform(-1, 1))
    env.zenith, env.horizon = tint(env.zenith), tint(env.horizon)
    env.clouds = float(np.clip(env.clouds + strength * rng.uniform(-0.3, 0.3), 0, 1))
    env.visibility = float(env.visibility * 2 ** (strength * rng.uniform(-2, 1)))
