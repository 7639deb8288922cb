"""Colour conversions both renderers share: display sRGB <-> linear (a 2.2 gamma) and the
final rounding to 8 bits."""

from __future__ import annotations

import numpy as np

GAMMA = 2.2


def srgb(colors) -> np.ndarray:
    """Display sRGB in [0, 1] -> linear (palettes and base colours are written as one sees them)."""
    return np.asarray(colors, dtype=np.float64) ** GAMMA


def to_display(linear: np.ndarray) -> np.ndarray:
    """Linear values (clipped to [0, 1]) -> display values in [0, 1]: the inverse of `srgb`."""
    return np.clip(linear, 0, 1) ** (1 / GAMMA)


# The display curve as a table: finer steps than uint8's, no pow() per pixel.
GAMMA_TABLE = to_display(np.linspace(0, 1, 4096))


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Display values in [0, 1] (clipped) -> uint8, rounded."""
    return (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
