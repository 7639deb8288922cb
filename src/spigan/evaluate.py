"""Segmentation metrics: one confusion matrix per split, IoU, protocols, negative transfer.

Conventions follow the official Cityscapes evaluation (cityscapesScripts): a single confusion
matrix accumulated over every pixel of the split; pixels whose ground truth is IGNORE never
count; a class with no ground truth and no prediction has IoU n/a (NaN) and is left out of the
mean. This module takes predictions and labels as arrays; it knows nothing about training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spigan.ontology import IGNORE, PROTOCOLS, Protocol


class ConfusionMatrix:
    """Pixel counts: rows are ground-truth classes, columns predicted classes.

    A prediction outside [0, num_classes) (e.g. a class the protocol does not score) lands in
    an extra last column: it is a miss for the true class and a false positive for nobody.
    """

    def __init__(self, num_classes: int):
        self.num_classes = num_classes
        self.matrix = np.zeros((num_classes, num_classes + 1), dtype=np.int64)

    def update(self, pred: np.ndarray, gt: np.ndarray) -> None:
        """Adds one image (or batch) of integer predictions and labels of the same shape."""
        if pred.shape != gt.shape:
            raise ValueError(f"prediction shape {pred.shape} differs from label shape {gt.shape}")
        n = self.num_classes
        gt = gt.astype(np.int64, copy=False).ravel()
        pred = pred.astype(np.int64, copy=False).ravel()
        valid = gt != IGNORE
        gt, pred = gt[valid], pred[valid]
        if gt.size and (gt.min() < 0 or gt.max() >= n):
            bad = int(gt[(gt < 0) | (gt >= n)][0])
            raise ValueError(f"label id {bad} is outside the {n} classes (and is not {IGNORE})")
        pred = np.where((pred >= 0) & (pred < n), pred, n)
        self.matrix += np.bincount(gt * (n + 1) + pred, minlength=n * (n + 1)).reshape(n, n + 1)

    def merge(self, other: "ConfusionMatrix") -> None:
        self.matrix += other.matrix

    def iou(self) -> np.ndarray:
        """Per-class IoU = TP / (TP + FP + FN); NaN where the class is absent from both."""
        tp = np.diag(self.matrix[:, : self.num_classes]).astype(np.float64)
        gt_total = self.matrix.sum(axis=1)
        pred_total = self.matrix[:, : self.num_classes].sum(axis=0)
        union = gt_total + pred_total - tp
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(union > 0, tp / union, np.nan)

    def pixel_accuracy(self) -> float:
        total = self.matrix.sum()
        return float(np.trace(self.matrix[:, : self.num_classes]) / total) if total else float("nan")


def mean_iou(iou: np.ndarray, reported: tuple[int, ...] | None = None) -> float:
    """Mean over the reported classes, n/a (NaN) classes left out; NaN if none is defined."""
    values = iou if reported is None else iou[list(reported)]
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")


@dataclass
class Scores:
    """The result of scoring a split under one protocol (`iteration`: of the checkpoint
    scored, where it matters, e.g. the oracle's choice)."""

    protocol: str
    class_names: tuple[str, ...]
    iou: np.ndarray  # (C,) with NaN for n/a
    miou: float
    pixel_accuracy: float
    per_image_miou: np.ndarray  # (N,) one mIoU per image, for negative transfer
    iteration: int | None = None

    def to_dict(self) -> dict:
        out = {
            "protocol": self.protocol,
            "miou": _none_if_nan(self.miou),
            "pixel_accuracy": _none_if_nan(self.pixel_accuracy),
            "iou": {c: _none_if_nan(v) for c, v in zip(self.class_names, self.iou.tolist())},
            "per_image_miou": [_none_if_nan(v) for v in self.per_image_miou.tolist()],
        }
        if self.iteration is not None:
            out["iteration"] = self.iteration
        return out

    @classmethod
    def from_dict(cls, d: dict, protocol: str = "") -> "Scores":
        """The inverse of to_dict (None -> NaN); `protocol` where the dict lacks one."""
        nan = lambda v: float("nan") if v is None else float(v)  # noqa: E731
        return cls(protocol=d.get("protocol", protocol), class_names=tuple(d["iou"]),
                   iou=np.array([nan(v) for v in d["iou"].values()], dtype=np.float64), miou=nan(d.get("miou")),
                   pixel_accuracy=nan(d.get("pixel_accuracy")),
                   per_image_miou=np.array([nan(v) for v in d.get("per_image_miou", [])], dtype=np.float64),
                   iteration=d.get("iteration"))


def _none_if_nan(x: float):
    return None if np.isnan(x) else float(x)


class Evaluator:
    """Accumulates a split image by image under one protocol."""

    def __init__(self, protocol: Protocol):
        self.protocol = protocol
        self.total = ConfusionMatrix(len(protocol.class_names))
        self.per_image: list[float] = []

    def add(self, pred: np.ndarray, gt: np.ndarray) -> None:
        """pred, gt: (H, W) integer arrays in the model's classes (mapped by the protocol)."""
        image = ConfusionMatrix(self.total.num_classes)
        image.update(self.protocol.map(pred), self.protocol.map(gt))
        self.total.merge(image)
        self.per_image.append(mean_iou(image.iou(), self.protocol.reported))

    def scores(self) -> Scores:
        iou = self.total.iou()
        return Scores(
            protocol=self.protocol.name,
            class_names=self.protocol.class_names,
            iou=iou,
            miou=mean_iou(iou, self.protocol.reported),
            pixel_accuracy=self.total.pixel_accuracy(),
            per_image_miou=np.asarray(self.per_image, dtype=np.float64),
        )


def negative_transfer_ratio(per_image_miou: np.ndarray, baseline_per_image_miou: np.ndarray) -> float:
    """Share of images whose own mIoU is lower than the baseline model's on the same image.

    This is Table 2's last column (baseline = source-only). Images where either mIoU is n/a
    (no scored pixel) are left out; a tie is not negative transfer.
    """
    a = np.asarray(per_image_miou, dtype=np.float64)
    b = np.asarray(baseline_per_image_miou, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"{a.size} images scored against a baseline scored on {b.size}")
    defined = ~np.isnan(a) & ~np.isnan(b)
    return float(np.mean(a[defined] < b[defined])) if defined.any() else float("nan")


def negative_transfer(scores: Scores, baseline: Scores) -> float:
    """The negative-transfer ratio of one model's scores against a baseline's on the same
    split (Table 2: the baseline is the same seed's source-only model)."""
    return negative_transfer_ratio(scores.per_image_miou, baseline.per_image_miou)


def format_scores(scores: Scores, title: str = "") -> str:
    """A fixed-width table: one row per class, then mIoU; n/a where undefined."""
    lines = [f"{title} [{scores.protocol}]".strip()]
    width = max(len(c) for c in scores.class_names)
    for i, (name, value) in enumerate(zip(scores.class_names, scores.iou)):
        mark = "" if _is_reported(scores, i) else "  (not in mean)"
        lines.append(f"  {name:<{width}}  {'n/a' if np.isnan(value) else f'{100 * value:5.1f}'}{mark}")
    lines.append(f"  {'mIoU':<{width}}  {100 * scores.miou:5.1f}")
    return "\n".join(lines)


def _is_reported(scores: Scores, index: int) -> bool:
    protocol = PROTOCOLS.get(scores.protocol)
    return protocol is None or protocol.reported is None or index in protocol.reported
