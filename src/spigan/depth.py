"""The privileged information's target (Eq. 5): z-buffer depth in metres, encoded as the
value P regresses, P's raw output mapped to the same units, and both decoded back to
metres for display.

The paper gives neither units nor a normalisation, so the effective strength of γ = 0.1
depends on this choice (`loss.depth_target`, docs/RESULTS.md measures each):
- `log`: log(clamp(z, 1, max)) / log(max), in [0, 1]; relative errors weigh evenly, near
  and far, and the far sky does not dominate. P regresses it directly.
- `metres`: clamp(z, 1, max) in metres, SYNTHIA's unit once divided by 100. P's raw output
  is scaled by `max` (the network starts near 0 and moves in small steps; the scale lets
  it reach the sky's 655 m), so the L1, and what it sends into G, is in metres.
- `inverse`: 1 / clamp(z, 1, max) in 1/m (disparity up to the camera's baseline), in
  (0, 1]; near surfaces dominate, the sky is nearly 0. P regresses it directly.
Pixels without a valid depth (not finite, or <= 0) become INVALID, which
`losses.l1_depth` skips.

Depth at `max_depth` or beyond (the simulator's sky sits at 655.35 m, as SYNTHIA's far
values do) is, by `loss.depth_far` (DEPTH_FAR):
- `clamp`: kept as `max_depth` (the default; what this code did before the option).
- `skip`: made INVALID like pixels without depth, so that L_P measures the street's
  geometry. In metres the sky's errors are hundreds of metres where the street's are a few,
  so under `clamp` L_P is mostly "is this pixel sky?", and G can lower it by washing skies
  out (docs/RESULTS.md).
"""

from __future__ import annotations

import math

import numpy as np
import torch

INVALID = -1.0  # the encoded value of a pixel without depth
DEPTH_TARGETS = ("log", "metres", "inverse")
DEPTH_FAR = ("clamp", "skip")


def encode_depth(depth: torch.Tensor, max_depth: float, target: str = "log", far: str = "clamp") -> torch.Tensor:
    """Depth in metres -> the privileged target (invalid pixels, and with far="skip" those
    at max_depth or beyond, -> INVALID)."""
    valid = torch.isfinite(depth) & (depth > 0)
    if far == "skip":
        # A margin below max_depth: the sky's 655.35 m, stored in float32, reads 655.34998.
        valid &= depth < max_depth * (1 - 1e-6)
    elif far != "clamp":
        raise ValueError(f"unknown depth_far {far!r}: expected one of {DEPTH_FAR}")
    z = depth.nan_to_num(1.0).clamp(1.0, max_depth)
    if target == "log":
        encoded = torch.log(z) / math.log(max_depth)
    elif target == "metres":
        encoded = z
    elif target == "inverse":
        encoded = 1.0 / z
    else:
        raise ValueError(f"unknown depth target {target!r}: expected one of {DEPTH_TARGETS}")
    return torch.where(valid, encoded, torch.full_like(encoded, INVALID))


def depth_prediction(raw: torch.Tensor, max_depth: float, target: str = "log") -> torch.Tensor:
    """P's raw output -> its prediction in the target's units (see the module docstring)."""
    return raw * max_depth if target == "metres" else raw


def decode_depth(raw, max_depth: float, target: str = "log"):
    """P's raw output -> depth in metres (numpy or torch), clamped to [1, max_depth]."""
    torch_in = isinstance(raw, torch.Tensor)
    x = raw.float() if torch_in else np.asarray(raw)
    lib = torch if torch_in else np
    if target == "log":
        return lib.exp(lib.clip(x, 0, 1) * (math.log(max_depth) if torch_in else np.log(max_depth)))
    if target == "metres":
        return lib.clip(x * max_depth, 1.0, max_depth)
    if target == "inverse":
        return 1.0 / lib.clip(x, 1.0 / max_depth, 1.0)
    raise ValueError(f"unknown depth target {target!r}: expected one of {DEPTH_TARGETS}")
