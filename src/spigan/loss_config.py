"""The `loss` section of the config: Eq. 1's weights (α, β, γ, δ) with the paper's values,
what P regresses for Eq. 5, and which kinds of privileged information (PI) it learns.

A leaf of its own, so that what a method switches off (spigan.variant) and the update
steps (spigan.objective) take these values without importing the whole config; the
config (spigan.config) holds it as its `loss` section and validates it there.

The kinds of PI (`loss.pi`, each with its own weight γ_k; the paper's setting is depth
alone, "our method trivially extends to multiple separate types of PI", §3.2):
- `depth`: the z-buffer, (1, H, W) metres; L1 of Eq. 5 on the target of spigan.depth.
- `normals`: camera-space unit surface normals, (3, H, W), (0, 0, 0) where there is no
  geometry (the sky); 1 - cosine, over pixels with geometry (losses.cosine_normals).
- `boundaries`: instance boundaries, (1, H, W) in {0, 1}; class-balanced binary
  cross-entropy on a logit (HED, Xie & Tu 2015; losses.balanced_bce).
P is one FCN-8s whose output stacks the configured kinds' channels in the order of
PI_TYPES, whatever the order they are listed in (`pi_order`, `split_pi`): depth, when
configured, is always channel 0, so a depth-only P is the paper's (and this code's before
the option) exactly. Why one P with a head per kind rather than one P per kind:
models/fcn.py and docs/ARCHITECTURE.md.
"""

from __future__ import annotations

from dataclasses import dataclass

P_TRAINED_ON = ("both", "source")  # loss.p_trained_on: what P learns from
PI_TYPES = ("depth", "normals", "boundaries")  # loss.pi's names, in the order of P's channels
PI_CHANNELS = {"depth": 1, "normals": 3, "boundaries": 1}  # P's output channels per kind


@dataclass
class LossConfig:
    """Eq. 1 weights (paper §4.1), the depth scale of Eq. 5, and the kinds of PI."""

    adversarial: float = 1.0  # α
    task: float = 0.5  # β
    privileged: float = 0.1  # γ (of depth: the paper's γ)
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
    # The kinds of PI P learns, any of PI_TYPES (depth alone: the paper). Ours beyond it:
    # normals, boundaries. Eq. 5 becomes Σ_k γ_k·L_P_k, each γ_k below.
    pi: tuple[str, ...] = ("depth",)
    privileged_normals: float = 0.1  # γ of normals
    privileged_boundaries: float = 0.1  # γ of boundaries

    def pi_weights(self) -> dict[str, float]:
        """γ_k of each configured kind of PI, in P's channel order."""
        gamma = {"depth": self.privileged, "normals": self.privileged_normals,
                 "boundaries": self.privileged_boundaries}
        return {kind: gamma[kind] for kind in pi_order(self.pi)}


def pi_order(kinds) -> tuple[str, ...]:
    """`kinds` in the order of P's channels (PI_TYPES'), whatever order they were listed in:
    two configs naming the same kinds build the same P."""
    return tuple(kind for kind in PI_TYPES if kind in kinds)


def pi_channels(kinds) -> int:
    """P's output channels for `kinds`: Σ_k C_k (1 for depth alone, 5 for all three)."""
    return sum(PI_CHANNELS[kind] for kind in pi_order(kinds))


def split_pi(raw, kinds) -> dict:
    """P's raw output (b, Σ_k C_k, h, w) -> {kind: (b, C_k, h, w)} in channel order. One kind
    gets `raw` itself."""
    order = pi_order(kinds)
    if len(order) == 1:
        return {order[0]: raw}
    return dict(zip(order, raw.split([PI_CHANNELS[kind] for kind in order], dim=1)))
