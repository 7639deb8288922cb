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
"""

from __future__ import annotations

import math

import numpy as np
import torch

INVALID = -1.0  # the encoded value of a pixel without depth
DEPTH_TARGETS = ("log", "metres", "inverse")


def encode_depth(depth: torch.Tensor, max_depth: float, target: str = "log") -> torch.Tensor:
    """Depth in metres -> the privileged target (invalid pixels -> INVALID)."""
    valid = torch.isfinite(depth) & (depth > 0)
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
