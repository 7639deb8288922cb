"""The privileged information's target (Eq. 5): z-buffer depth in metres, encoded as the
value P regresses, and decoded back to metres for display.

The paper gives neither units nor a normalisation. We regress log(clamp(z, 1, max)) / log(max),
in [0, 1]: the far sky (655 m) does not dominate the L1, and relative errors weigh evenly,
near and far. Pixels without a valid depth (not finite, or <= 0) become -1, which
`losses.l1_depth` skips.
"""

from __future__ import annotations

import math

import numpy as np
import torch

INVALID = -1.0  # the encoded value of a pixel without depth


def encode_depth(depth: torch.Tensor, max_depth: float) -> torch.Tensor:
    """Depth in metres -> the privileged target (invalid pixels -> INVALID)."""
    valid = torch.isfinite(depth) & (depth > 0)
    encoded = torch.log(depth.nan_to_num(1.0).clamp(1.0, max_depth)) / math.log(max_depth)
    return torch.where(valid, encoded, torch.full_like(encoded, INVALID))


def decode_depth(encoded, max_depth: float):
    """P's output -> depth in metres (numpy or torch, clamped to the encoded range)."""
    if isinstance(encoded, torch.Tensor):
        return torch.exp(encoded.float().clamp(0, 1) * math.log(max_depth))
    return np.exp(np.clip(encoded, 0, 1) * np.log(max_depth))
