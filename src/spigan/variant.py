"""What `train.method` means, decided once: which networks exist, which terms of Eq. 1 are
on and with which weights, which data a training batch carries.

Table 2 of the paper:
- `spigan`: G, D, T, P and φ; α, β, γ, δ as configured (the paper's 1, 0.5, 0.1, 0.33);
  P learns the kinds of privileged information named in `loss.pi`, each with its γ_k.
- `no_pi` (SPIGAN-no-PI): no P; every γ_k = 0.
- `base` (SPIGAN-base): no P, no φ; every γ_k = 0, δ = 0.
- `source_only` (FCN source): T alone on labelled simulator frames.
- `target_only` (FCN target): T alone on labelled target frames (the upper bound).

Not a row of Table 2:
- `pretrain`: T, P and φ trained on labelled simulator frames with depth, each from its own
  loss (T and φ from the labels, P from the depth), no G or D: the start of a
  warm-started ablation (`spigan ablate --warm-start N`), standing in for the paper's
  ImageNet weights where there are none. φ learns here only; every other method keeps it
  frozen.

Every other module asks the `Variant` (`Config.variant()`), never `train.method` itself.
This module takes values (the method's name, the configured loss weights), not the
config, which imports it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from spigan.errors import SpiganError
from spigan.loss_config import PI_TYPES, LossConfig, pi_order

METHODS = ("spigan", "no_pi", "base", "source_only", "target_only")  # Table 2's rows
ADAPTED = ("spigan", "no_pi", "base")
PRETRAIN = "pretrain"  # not one of Table 2's rows: what a warm-started ablation starts from
TRAIN_METHODS = METHODS + (PRETRAIN,)  # every value of train.method


@dataclass(frozen=True)
class Variant:
    """Attributes:
        method: the name (one of TRAIN_METHODS).
        adapted: G and D exist and the SPIGAN schedule runs (a D step, then generator steps).
        pretraining: T, P and φ (with its segmentation head) learn from source labels and
            depth, each from its own loss (`pretrain`); φ is trained in no other variant.
        weights: the effective α, β, γ, δ (a LossConfig with the method's zeros); its `pi`
            the kinds of privileged information P learns, () where there is no P.
        train_role: the labelled data T trains on, "source" or "target" (target_only).
        batch_keys: what a labelled training batch carries (depth for every adapted
            variant, as the source's depth files are part of its layout; the other kinds
            of PI where P learns them); `target_keys` what an unlabelled one does.
    """

    method: str
    adapted: bool
    weights: LossConfig
    train_role: str
    batch_keys: tuple[str, ...]
    pretraining: bool = False

    @property
    def privileged(self) -> bool:
        """P exists (some kind of PI with γ_k > 0, or pretraining)."""
        return bool(self.weights.pi)

    @property
    def perceptual(self) -> bool:
        """φ exists (δ > 0, or pretraining)."""
        return self.pretraining or self.adapted and self.weights.perceptual > 0

    @property
    def networks(self) -> tuple[str, ...]:
        """The networks this variant builds, by their names in a checkpoint."""
        names = ["task"]
        if self.adapted:
            names += ["generator", "discriminator"]
        if self.privileged:
            names.append("privileged")
        if self.perceptual:
            names.append("perceptual")
        if self.pretraining:
            names.append("perceptual_head")
        return tuple(names)

    @property
    def target_keys(self) -> tuple[str, ...]:
        """What a batch of the unlabelled target stream carries (adapted variants): images alone."""
        return ("image",)

    @property
    def uses_target_labels(self) -> bool:
        """Training reads target labels (only the upper bound does)."""
        return self.train_role == "target"


def variant_of(method: str, loss: LossConfig) -> Variant:
    """The variant `method` (train.method) names, with the configured `loss` weights (the
    config's `loss` section) and the method's zeros; a SpiganError for an unknown method."""
    if method not in TRAIN_METHODS:
        raise SpiganError(f"train.method: {method!r} is not one of {', '.join(TRAIN_METHODS)}")
    weights = dataclasses.replace(loss)
    if method in ("no_pi", "base"):  # every kind of PI off
        weights.privileged = weights.privileged_normals = weights.privileged_boundaries = 0.0
    if method == "base":
        weights.perceptual = 0.0
    adapted, pretraining = method in ADAPTED, method == PRETRAIN
    if method in ("spigan", PRETRAIN) and not loss.pi:
        raise SpiganError(f"loss.pi: empty, but train.method={method} trains P: name at least one of "
                          f"{', '.join(PI_TYPES)} (train.method=no_pi trains without P)")
    # P exists where it learns something: in an adapted run, some kind with γ_k > 0 (a kind
    # with γ_k = 0 beside it keeps its channels, logged, moving nothing).
    has_p = pretraining or adapted and any(g > 0 for g in weights.pi_weights().values())
    weights.pi = pi_order(loss.pi) if has_p else ()
    keys = ("image", "labels", "depth") if adapted or pretraining else ("image", "labels")
    keys += tuple(kind for kind in weights.pi if kind not in keys)
    return Variant(method, adapted, weights, "target" if method == "target_only" else "source", keys, pretraining)
