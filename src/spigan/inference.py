"""Running a trained task network over images and splits, and scoring a finished run's
checkpoints on its target's validation split."""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from spigan.checkpoint import load_checkpoint, network_from_checkpoint
from spigan.config import Config
from spigan.data.datasets import data_name, eval_size_name
from spigan.evaluate import Evaluator, Scores
from spigan.ontology import Protocol, protocol_for
from spigan.results import RunResult
from spigan.sources import validation_samples


@torch.no_grad()
def segment(task_net: nn.Module, images: torch.Tensor, out_size: tuple[int, int] | None = None) -> torch.Tensor:
    """(b, 3, h, w) images in [-1, 1] -> (b, H, W) int64 class indices. Logits are upsampled
    bilinearly to `out_size` (the label resolution) before the argmax."""
    logits = task_net(images)
    return segment_logits(logits, out_size or tuple(logits.shape[-2:]))


@torch.no_grad()
def evaluate_split(task_net: nn.Module, samples, protocol: Protocol, device: torch.device,
                   batch_size: int = 4, progress: bool = False) -> Scores:
    """Scores `task_net` on every sample of a labelled split (whole images, no crop). Each
    image's logits are upsampled to its own label resolution before the argmax."""
    from tqdm import tqdm

    was_training = task_net.training
    task_net.eval()
    evaluator = Evaluator(protocol)
    dtype = next(task_net.parameters()).dtype  # float64 while training under fp64
    batches = range(0, len(samples), batch_size)
    for start in tqdm(batches, desc="evaluate", disable=not progress, leave=False):
        items = [samples[i] for i in range(start, min(start + batch_size, len(samples)))]
        logits = task_net(torch.stack([it["image"] for it in items]).to(device, dtype))
        for scores, item in zip(logits, items):
            labels = item["labels"]
            pred = segment_logits(scores[None], tuple(labels.shape[-2:]))[0]
            evaluator.add(pred.cpu().numpy(), labels.numpy())
    task_net.train(was_training)
    return evaluator.scores()


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


def evaluate_checkpoints(run_dir: Path, cfg: Config, device: torch.device, progress: bool = False) -> RunResult:
    """Scores the run's `early_stop` and `last` checkpoints on the target validation split.
    The default model is the early-stopping one when the rule fired (chosen without target
    labels), else the last. The caller fills in the rest of the record."""
    protocol = protocol_for(cfg.data.ontology, cfg.data.protocol)
    val = validation_samples(cfg)
    if hasattr(val.source, "prepare"):
        val.source.prepare(progress)
    scores = {}
    for name in ("early_stop", "last"):
        path = run_dir / "checkpoints" / f"{name}.pt"
        if path.exists():
            net = network_from_checkpoint(load_checkpoint(path), "task", device)
            scores[name] = evaluate_split(net, val, protocol, device, progress=progress)
    default = "early_stop" if "early_stop" in scores else "last"
    scored_on = data_name(cfg.data.target, "val", cfg.data.sim_target_domain, len(val))
    return RunResult(protocol=protocol.name, checkpoints=scores, default=default, eval_size=eval_size_name(cfg.data.eval_size, cfg.data.size),
                     scored_on=scored_on)
