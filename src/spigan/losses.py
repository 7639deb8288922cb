"""The loss terms of SPIGAN (paper §3.3), pure functions of tensors.

Every term is computed in float32 or wider, whatever precision the networks ran in: bf16
and fp16 outputs are widened to float32, float64 ones (train.precision=fp64) kept."""

from __future__ import annotations

import torch
import torch.nn.functional as F

IGNORE = 255


def _wide(x: torch.Tensor) -> torch.Tensor:
    """x in float32, or in float64 where it already is."""
    return x if x.dtype == torch.float64 else x.float()


def discriminator_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """Least-squares GAN (Eq. 2) from D's side: real patches towards 1, adapted towards 0.

    Halved as in CycleGAN, so that at the equilibrium (D = 0.5 everywhere) it equals the
    generator's adversarial loss; the early-stopping rule compares the two. The optimum is
    that of Eq. 2.
    """
    d_real, d_fake = _wide(d_real), _wide(d_fake)
    return 0.5 * ((d_real - 1).pow(2).mean() + d_fake.pow(2).mean())


def adversarial_loss(d_fake: torch.Tensor) -> torch.Tensor:
    """Least-squares GAN (Eq. 2) from G's side: adapted patches towards 1."""
    return (_wide(d_fake) - 1).pow(2).mean()


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Eq. 4: per-pixel cross-entropy, averaged over labelled pixels (255 is ignored).
    logits (b, C, h, w), labels (b, h, w) int64."""
    return F.cross_entropy(_wide(logits), labels, ignore_index=IGNORE)


def l1_depth(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. 5's norm: mean absolute error over pixels with a valid (finite, > 0) target.
    prediction, target (b, 1, h, w); target already encoded (spigan.depth), invalid pixels
    marked < 0."""
    valid = target >= 0
    return (_wide(prediction) - target).abs()[valid].mean() if valid.any() else _wide(prediction).sum() * 0


# Below it, P's normal is divided by NORMALS_EPS rather than by its length. P starts at
# exactly 0 (FCN-8s' zero-initialised scores), where the cosine is undefined and the
# gradient of p / |p| is 1 / eps: 1e12 with torch's default eps, which fp16 loss scaling
# cannot represent. From |p| >= NORMALS_EPS on the loss is exactly 1 - cos.
NORMALS_EPS = 1e-3


def cosine_normals(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The normals' term of Eq. 5: 1 - cos between P's normal (its 3 raw channels,
    L2-normalised per pixel) and the target's unit normal, averaged over pixels with
    geometry (target not (0, 0, 0): the sky has none); 0 where no pixel has any.
    prediction, target (b, 3, h, w)."""
    prediction, target = _wide(prediction), _wide(target)
    valid = (target != 0).any(1)  # (b, h, w)
    cosine = (F.normalize(prediction, dim=1, eps=NORMALS_EPS) * target).sum(1)  # (b, h, w)
    return (1 - cosine)[valid].mean() if valid.any() else prediction.sum() * 0


def balanced_bce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The boundaries' term of Eq. 5: class-balanced binary cross-entropy (HED, Xie & Tu
    2015), averaged over pixels. Boundaries are a few per cent of the pixels, so each
    positive pixel weighs the batch's share of negatives and each negative the share of
    positives: both classes count equally. A batch without boundaries weighs its negatives
    0 (HED's rule): nothing to learn from it. logits, target (b, 1, h, w), target in {0, 1}."""
    logits, target = _wide(logits), _wide(target)
    positive = target.mean()  # the share of boundary pixels, over the batch
    weight = torch.where(target > 0.5, 1 - positive, positive)
    return F.binary_cross_entropy_with_logits(logits, target, weight=weight)


def perceptual_loss(features_a: list[torch.Tensor], features_b: list[torch.Tensor]) -> torch.Tensor:
    """Eq. 6: L1 between φ activations; each layer's mean absolute difference, summed over
    the layers (so every layer counts equally whatever its size)."""
    return sum((_wide(a) - _wide(b)).abs().mean() for a, b in zip(features_a, features_b))
