"""The Python API: a trained checkpoint as an object that segments photos.

    import spigan

    model = spigan.load("runs/demo/spigan/checkpoints/early_stop.pt", device="auto")
    labels = model.segment(rgb)        # (H, W) uint8: indices into model.classes
    depth = model.depth(rgb)           # (H, W) float32 metres (checkpoints with P)

Images are (H, W, 3) uint8 RGB arrays of any size ((H, W, 4) RGBA and (H, W) gray are
converted), or paths to image files in any format OpenCV or Pillow reads (gray, RGBA,
16-bit and palette files are converted to 8-bit RGB); a list of them, or an (N, H, W, 3)
array, is a batch, answered as a list or an (N, ...) array. Each image
goes through the one preprocessing path (`data.transforms.network_input`: resized to the
training size, scaled to [-1, 1]); the outputs are upsampled back to the image's own size.
`spigan predict` is this class over files, folders and videos.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from spigan.checkpoint import (
    checkpoint_config,
    load_checkpoint,
    network_from_checkpoint,
)
from spigan.data import io
from spigan.data.transforms import network_input
from spigan.depth import decode_depth
from spigan.errors import SpiganError
from spigan.hardware import resolve_device
from spigan.inference import labels_confidence_entropy, segment_logits
from spigan.loss_config import split_pi
from spigan.ontology import ONTOLOGIES, colorize


@dataclass
class Prediction:
    """Everything predicted for one image, each (H, W) at the image's own size.

    Attributes:
        labels: uint8 indices into the model's classes (its training ontology).
        confidence: float32 softmax probability of the chosen class (if asked).
        entropy: float32 softmax entropy divided by log(classes), in [0, 1] (if asked).
        depth: float32 metres from P (if asked and the checkpoint has P).
    """

    labels: np.ndarray
    confidence: np.ndarray | None = None
    entropy: np.ndarray | None = None
    depth: np.ndarray | None = None


class Segmenter:
    """T (and P, where the checkpoint has it) of a checkpoint, frozen, on one device.

    Attributes:
        classes: the class names; `labels == k` is `classes[k]` (255 never occurs).
        palette: an RGB colour per class (the ontology's, e.g. Cityscapes' colours).
        ontology: the training ontology's name (16-class, 7-category, camvid-11).
        size: (H, W) the images are resized to before the networks, the training size.
        has_depth: whether the checkpoint has P and P learnt depth (`depth` works).
        device: where the networks run.
        config: the checkpoint's resolved config; iteration: the iteration it was saved at.
    """

    def __init__(self, state: dict, device: str | torch.device = "auto", batch_size: int = 8):
        if batch_size < 1:
            raise SpiganError(f"batch_size: must be at least 1, got {batch_size}")
        self.config = checkpoint_config(state)
        self.device = device if isinstance(device, torch.device) else resolve_device(str(device), "device")
        self.task = network_from_checkpoint(state, "task", self.device, self.config)
        self.privileged = network_from_checkpoint(state, "privileged", self.device, self.config)
        self.classes: tuple[str, ...] = tuple(state["classes"])
        self.ontology = self.config.data.ontology
        self.palette = ONTOLOGIES[self.ontology][1]
        self.size: tuple[int, int] = tuple(self.config.data.size)
        self.iteration: int = int(state["iteration"])
        self.batch_size = batch_size

    @property
    def has_depth(self) -> bool:
        return self.privileged is not None and "depth" in self.config.loss.pi

    def __repr__(self) -> str:
        return (f"Segmenter({self.ontology}: {len(self.classes)} classes, input {self.size[0]}x{self.size[1]}, "
                f"depth {'yes' if self.has_depth else 'no'}, iteration {self.iteration}, {self.device})")

    # -- the answers ------------------------------------------------------------------

    def segment(self, images):
        """Class indices: (H, W) uint8 per image (a list, or (N, H, W) for an (N, H, W, 3) array)."""
        return self._answer(images, lambda p: p.labels)

    def confidence(self, images):
        """The softmax probability of the predicted class: (H, W) float32 per image."""
        return self._answer(images, lambda p: p.confidence, confidence=True)

    def entropy(self, images):
        """The softmax entropy over the classes divided by log(classes): (H, W) float32 in
        [0, 1] per image (0: one class certain; 1: every class equally likely)."""
        return self._answer(images, lambda p: p.entropy, confidence=True)

    def depth(self, images):
        """P's depth in metres: (H, W) float32 per image. Only for checkpoints with P
        (spigan runs; not no_pi, base, source_only or target_only) that learnt depth
        (loss.pi, as every run before the other kinds of privileged information)."""
        if not self.has_depth:
            why = "its P learnt no depth" if self.privileged is not None else "has no privileged network P"
            raise SpiganError(f"this checkpoint ({self.config.name}) {why}: no depth")
        return self._answer(images, lambda p: p.depth, depth=True)

    @torch.no_grad()
    def probabilities(self, images):
        """Softmax class probabilities: (C, H, W) float32 per image (C x H x W floats each:
        for large photos prefer `segment` and `confidence`)."""
        def one(rgb: np.ndarray) -> np.ndarray:
            logits = self.task(network_input(rgb, self.size).to(self.device))
            up = F.interpolate(logits.float(), size=rgb.shape[:2], mode="bilinear", align_corners=False)
            return torch.softmax(up, 1)[0].cpu().numpy()

        batch, single, stacked = self._batch(images)
        out = [one(rgb) for rgb in batch]
        return out[0] if single else (np.stack(out) if stacked else out)

    def predict(self, images, confidence: bool = False, depth: bool = True):
        """`Prediction`s (labels; confidence and entropy if `confidence`; depth if `depth`
        and the checkpoint has P) from one pass of the networks: one per image, or a list."""
        batch, single, _ = self._batch(images)
        out = list(self.iter_predict(batch, confidence, depth))
        return out[0] if single else out

    @torch.no_grad()
    def iter_predict(self, images: Sequence[np.ndarray] | Iterator[np.ndarray], confidence: bool = False,
                     depth: bool = True) -> Iterator[Prediction]:
        """`Prediction`s of a stream of (H, W, 3) uint8 RGB images (e.g. video frames),
        `batch_size` at a time through the networks."""
        chunk: list[np.ndarray] = []
        for rgb in images:
            chunk.append(check_image(rgb))
            if len(chunk) == self.batch_size:
                yield from self._predict_chunk(chunk, confidence, depth)
                chunk = []
        if chunk:
            yield from self._predict_chunk(chunk, confidence, depth)

    # -- pictures ----------------------------------------------------------------------

    def colorize(self, labels: np.ndarray) -> np.ndarray:
        """(H, W) class indices -> (H, W, 3) uint8 RGB in the ontology's palette."""
        return colorize(labels, self.palette)

    def overlay(self, rgb: np.ndarray, labels: np.ndarray, alpha: float = 0.5) -> np.ndarray:
        """The photo with its segmentation's colours laid over it, `alpha` opaque."""
        if not 0 <= alpha <= 1:
            raise SpiganError(f"alpha: must be in [0, 1], got {alpha}")
        rgb = check_image(rgb)
        mixed = (1 - alpha) * rgb.astype(np.float32) + alpha * self.colorize(labels).astype(np.float32)
        return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)

    # -- internals ---------------------------------------------------------------------

    def _predict_chunk(self, chunk: list[np.ndarray], confidence: bool, depth: bool) -> list[Prediction]:
        x = torch.cat([network_input(rgb, self.size) for rgb in chunk]).to(self.device)  # (b, 3, h, w)
        logits = self.task(x)  # (b, C, h, w)
        # P's depth channel (P may learn other kinds of privileged information beside it)
        encoded = split_pi(self.privileged(x), self.config.loss.pi)["depth"] if depth and self.has_depth else None
        out = []
        for k, rgb in enumerate(chunk):
            size = rgb.shape[:2]
            if confidence:
                labels, conf, ent = (t[0].cpu().numpy() for t in labels_confidence_entropy(logits[k: k + 1], size))
                pred = Prediction(labels.astype(np.uint8), conf.astype(np.float32), ent.astype(np.float32))
            else:
                pred = Prediction(segment_logits(logits[k: k + 1], size)[0].cpu().numpy().astype(np.uint8))
            if encoded is not None:
                up = F.interpolate(encoded[k: k + 1].float(), size=size, mode="bilinear", align_corners=False)
                loss = self.config.loss
                pred.depth = decode_depth(up[0, 0].cpu().numpy(), loss.max_depth, loss.depth_target).astype(np.float32)
            out.append(pred)
        return out

    def _answer(self, images, pick, confidence: bool = False, depth: bool = False):
        batch, single, stacked = self._batch(images)
        out = [pick(p) for p in self.iter_predict(batch, confidence, depth)]
        return out[0] if single else (np.stack(out) if stacked else out)

    @staticmethod
    def _batch(images) -> tuple[list[np.ndarray], bool, bool]:
        """(images as a list, whether one image was given, whether an (N, H, W, 3) array was)."""
        if isinstance(images, (str, Path)):
            return [io.read_rgb(images)], True, False
        if isinstance(images, np.ndarray):
            if images.ndim == 4:
                return [check_image(im) for im in images], False, True
            return [check_image(images)], True, False
        if isinstance(images, (list, tuple)):
            return [io.read_rgb(im) if isinstance(im, (str, Path)) else check_image(im) for im in images], False, False
        raise SpiganError(f"images: expected an (H, W, 3) uint8 RGB array, a list of them, an (N, H, W, 3) array "
                          f"or image paths, got {type(images).__name__}")


def check_image(rgb) -> np.ndarray:
    """An image array as (H, W, 3) uint8 RGB; a one-line SpiganError if it is not one.

    Accepted: (H, W, 3) RGB, (H, W, 4) RGBA (alpha dropped), (H, W) or (H, W, 1) gray
    (replicated into R, G and B), all uint8. Other dtypes are refused rather than guessed
    at (is a float image in [0, 1] or [0, 255]?); image files of 16 bits are read and
    scaled by `data.io.read_rgb`."""
    if not isinstance(rgb, np.ndarray):
        raise SpiganError(f"image: expected an (H, W, 3) uint8 RGB array, got {type(rgb).__name__}")
    if rgb.ndim not in (2, 3) or (rgb.ndim == 3 and rgb.shape[2] not in (1, 3, 4)):
        raise SpiganError(f"image: expected an (H, W, 3) uint8 RGB array (or (H, W, 4) RGBA, (H, W) gray), got "
                          f"shape {rgb.shape}")
    if rgb.dtype != np.uint8:
        raise SpiganError(f"image: expected an (H, W, 3) uint8 RGB array, got {rgb.dtype} (scale to 0..255 and "
                          f"convert with .astype(np.uint8))")
    if rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise SpiganError(f"image: empty image of shape {rgb.shape}")
    return io.to_rgb8(rgb, "image", bgr=False)  # contiguous: views such as rgb[:, ::-1] too


def load(checkpoint: str | Path, device: str | torch.device = "auto", batch_size: int = 8) -> Segmenter:
    """A checkpoint file (or a run folder: its early_stop.pt, else last.pt) as a `Segmenter`
    on `device` ("auto": a GPU where there is one; "cpu"; "cuda"; "cuda:N")."""
    return Segmenter(load_checkpoint(checkpoint), device, batch_size)
