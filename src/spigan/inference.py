"""Running a trained task network over images: logits upsampled to each image's own size
(in bands of rows for huge photos), then the classes, their confidence and entropy.
Torch alone: what `spigan.load` needs to segment a photo. Scoring splits and runs is
spigan.scoring."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


@torch.no_grad()
def segment(task_net: nn.Module, images: torch.Tensor, out_size: tuple[int, int] | None = None) -> torch.Tensor:
    """(b, 3, h, w) images in [-1, 1] -> (b, H, W) int64 class indices. Logits are upsampled
    bilinearly to `out_size` (the label resolution) before the argmax."""
    logits = task_net(images)
    return segment_logits(logits, out_size or tuple(logits.shape[-2:]))


def segment_logits(logits: torch.Tensor, out_size: tuple[int, int], max_elements: int = 1 << 26) -> torch.Tensor:
    """(b, C, h, w) logits -> (b, H, W) classes: bilinear upsampling to `out_size`, then the
    argmax. Above `max_elements` upsampled values (a 6000x8000 photo with 16 classes would
    need 3 GB at once) the same interpolation runs in bands of rows."""
    if tuple(logits.shape[-2:]) == tuple(out_size):
        return logits.argmax(1)
    return upsampled(logits, out_size, lambda band: (band.argmax(1),), max_elements)[0]


def labels_confidence_entropy(logits: torch.Tensor, out_size: tuple[int, int], max_elements: int = 1 << 26
                              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(b, C, h, w) logits -> (b, H, W) classes (as `segment_logits`), the softmax
    probability of the chosen class, and the softmax entropy divided by log(C) (0: certain,
    1: uniform), from the logits upsampled to `out_size` (in bands for huge photos)."""
    classes = logits.shape[1]

    def reduce(band: torch.Tensor):
        labels = band.argmax(1)  # as segment_logits, bit for bit (log_softmax could break near-ties otherwise)
        log_p = torch.log_softmax(band, 1)
        entropy = -(log_p.exp() * log_p).sum(1) / math.log(max(classes, 2))
        return labels, log_p.gather(1, labels[:, None])[:, 0].exp(), entropy

    return upsampled(logits, out_size, reduce, max_elements)


def upsampled(logits: torch.Tensor, out_size: tuple[int, int], reduce, max_elements: int = 1 << 26):
    """`reduce` (a function of (b, C, rows, W) upsampled logits returning (b, rows, W)
    tensors) applied to the logits upsampled bilinearly to `out_size`: at once, or band by
    band of rows above `max_elements` upsampled values."""
    b, c = logits.shape[:2]
    logits = logits.float()
    if b * c * out_size[0] * out_size[1] <= max_elements:
        if tuple(logits.shape[-2:]) != tuple(out_size):
            logits = F.interpolate(logits, size=out_size, mode="bilinear", align_corners=False)
        return reduce(logits)
    return _banded(logits, out_size, max_elements, reduce)


def _source_weights(n_in: int, n_out: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For bilinear resampling with align_corners=False (PyTorch's rule): each output
    index's two source indices and the weight of the second."""
    src = ((torch.arange(n_out, dtype=torch.float64) + 0.5) * (n_in / n_out) - 0.5).clamp(min=0)
    i0 = src.floor().long().clamp(max=n_in - 1)
    i1 = (i0 + 1).clamp(max=n_in - 1)
    return i0.to(device), i1.to(device), (src - i0).float().to(device)


def _banded(logits: torch.Tensor, out_size: tuple[int, int], max_elements: int, reduce):
    """Separable bilinear upsampling (columns for the whole image, rows band by band)."""
    b, c, h, w = logits.shape
    H, W = out_size
    j0, j1, bw = _source_weights(w, W, logits.device)
    wide = logits[..., j0] * (1 - bw) + logits[..., j1] * bw  # (b, c, h, W)
    i0, i1, bh = _source_weights(h, H, logits.device)
    outs = None
    rows = max(1, max_elements // (b * c * W))
    for start in range(0, H, rows):
        sl = slice(start, min(H, start + rows))
        a = bh[sl].view(1, 1, -1, 1)
        band = wide[:, :, i0[sl]] * (1 - a) + wide[:, :, i1[sl]] * a
        results = reduce(band)
        if outs is None:
            outs = [torch.empty(b, H, W, dtype=r.dtype, device=r.device) for r in results]
        for out, r in zip(outs, results):
            out[:, sl] = r
    return tuple(outs)
