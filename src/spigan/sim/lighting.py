"""The light both renderers share: which primitives cast shadows, the sun's visibility at
every hit (cast shadows), and the haze of aerial perspective. Each renderer brings its own
light colours and sky; the paths here are one, so a change to shadows or haze reaches both.
"""

from __future__ import annotations

import numpy as np

from spigan.sim.casting import cast_shadows
from spigan.sim.hits import Hits
from spigan.sim.table import GROUND, MATERIAL_CODE, PrimitiveTable

# Lifts shadow rays off their surface, so that it does not shadow itself.
SHADOW_OFFSET = 0.02  # m


def shadow_casters(table: PrimitiveTable) -> np.ndarray:
    """Rows that cast sun shadows: all but the ground and the sidewalk slabs, whose curbs'
    shadows are thinner than a pixel."""
    return np.flatnonzero((table.kind != GROUND) & (table.material != MATERIAL_CODE["pavement"]))


def shadowed(hits: Hits, sel: np.ndarray, to_light: np.ndarray, casters: np.ndarray) -> np.ndarray:
    """(len(sel),) bool: whether rows `casters` block the distant light towards `to_light`
    at the hits `sel`."""
    n = hits.normals[sel]
    return cast_shadows(hits.points[sel] + SHADOW_OFFSET * n, to_light, hits.table, casters)


def sunlight(hits: Hits, to_sun: np.ndarray, shadows: bool) -> tuple[np.ndarray, np.ndarray]:
    """(n,) the cosine between every hit's normal and the sun, 0 for faces turned away and,
    if `shadows`, for hits in a cast shadow; and (n,) 0 where a cast shadow falls, else 1."""
    facing = np.clip(hits.normals @ to_sun, 0, None)
    lit = np.ones(len(facing))
    if shadows:
        cand = np.flatnonzero(facing > 0)
        dark = cand[shadowed(hits, cand, to_sun, shadow_casters(hits.table))]
        facing[dark], lit[dark] = 0.0, 0.0
    return facing, lit


def haze(color: np.ndarray, distance: np.ndarray, visibility: float, horizon: np.ndarray) -> np.ndarray:
    """(n, 3) aerial perspective: radiance `color` seen from `distance` (n,) m fades towards
    the `horizon` colour, by 63% over `visibility` m."""
    fade = np.exp(-distance / visibility)[:, None]
    return color * fade + horizon * (1 - fade)
