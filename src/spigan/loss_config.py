"""The `loss` section of the config: Eq. 1's weights (α, β, γ, δ) with the paper's values,
and what P regresses for Eq. 5.

A leaf of its own, so that what a method switches off (spigan.variant) and the update
steps (spigan.objective) take these values without importing the whole config; the
config (spigan.config) holds it as its `loss` section and validates it there.
"""

from __future__ import annotations

from dataclasses import dataclass

P_TRAINED_ON = ("both", "source")  # loss.p_trained_on: what P learns from


@dataclass
class LossConfig:
    """Eq. 1 weights (paper §4.1) and the depth scale of Eq. 5."""

    adversarial: float = 1.0  # α
    task: float = 0.5  # β
    privileged: float = 0.1  # γ
    perceptual: float = 0.33  # δ
    max_depth: float = 655.35  # metres: depth is clamped to [1, max_depth] (SYNTHIA's 16-bit range)
    # What P regresses (spigan.depth): metres (SYNTHIA's centimetres / 100; the default: the only
    # target under which γ·L_P carries a measurable share of G's gradient, docs/RESULTS.md)
    # | log (log z / log max, in [0, 1]; before issue 14) | inverse (1/z).
    depth_target: str = "metres"
    # Depth at max_depth or beyond (the sky): clamp (kept as max_depth: the default, as before
    # the option) | skip (left out of L_P like pixels without depth; spigan.depth).
    depth_far: str = "clamp"
    # What P learns from: both (x_s and G(x_s), Eq. 5 as the paper trains it: the default) |
    # source (x_s only; L_P(G(x_s)) still reaches G but not P, so G cannot teach P a code of
    # its own for depth, an option beyond the paper: docs/RESULTS.md).
    p_trained_on: str = "both"
