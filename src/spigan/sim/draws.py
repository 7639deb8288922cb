"""A frame's random values, drawn before any pixel is computed.

Each renderer's draws come from the frame's effects stream in one fixed order that depends
only on the knobs and the frame's size, never on what the pixels hold; the shading code
then reads them from these objects. So adding a channel, a pass or a material changes no
other random value of the frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spigan.sim.environment import Environment, sample_environment


@dataclass(frozen=True)
class SimDraws:
    """The `sim` renderer's random values for one frame."""

    env: Environment  # time of day, weather, season, sky (widened by domain randomisation)
    salt: int  # of the per-object material choices (palette entries, patterns, tints)
    randomize_salt: int  # of domain randomisation's per-object textures and jitter
    key_stops: float  # exposure key offset in [-0.5, 0.5), scaled by 1 + 2 x randomisation
    white_balance: np.ndarray  # (3,) in [-0.5, 0.5), scaled by the randomisation strength
    contrast: float  # in [-0.5, 0.5), scaled by the randomisation strength


@dataclass(frozen=True)
class PhotoDraws:
    """The `photo` camera's random values for one frame."""

    white_balance: np.ndarray  # (3,) per-channel gain, about 1
    exposure: float
    vignette: float  # darkening at the frame's corners
    contrast: float
    blur_sigma: float  # pixels
    jpeg_quality: int
    noise: np.ndarray  # (H, W, 3) float32 standard normal sensor noise


def draw_sim(rng: np.random.Generator, strength: float) -> SimDraws:
    """Draws a `sim` frame's values; `strength`: the domain randomisation knob."""
    env = sample_environment(rng, strength)
    salt, randomize_salt = int(rng.integers(1 << 30)), int(rng.integers(1 << 30))
    key_stops = float(rng.uniform(-0.5, 0.5))
    white_balance = rng.uniform(-0.5, 0.5, 3)
    return SimDraws(env, salt, randomize_salt, key_stops, white_balance, float(rng.uniform(-0.5, 0.5)))


def draw_photo(rng: np.random.Generator, height: int, width: int) -> PhotoDraws:
    """Draws a `photo` frame's values at `height` x `width`."""
    white_balance = 1 + rng.normal(0, 0.06, 3)
    exposure, vignette = float(rng.uniform(0.8, 1.4)), float(rng.uniform(0.15, 0.4))
    contrast, blur_sigma = float(rng.uniform(0.9, 1.2)), float(rng.uniform(0.4, 0.9))
    quality = int(rng.integers(40, 85))
    noise = rng.normal(0, 1, (height, width, 3)).astype(np.float32)
    return PhotoDraws(white_balance, exposure, vignette, contrast, blur_sigma, quality, noise)
