"""What TensorBoard shows of a run besides its losses: image panels of fixed frames every
`train.image_every` iterations (and at the first and the last), and, off by default, the
target-validation mIoU every `train.validate_every` iterations.

Neither changes the training trajectory: the networks run in eval mode without gradients,
the torch RNG is forked around them, and frames come from the validation splits (their own
random streams), never from the training streams. The validation curve reads target labels:
its tag says so, and nothing reads it back (the model is chosen by early stopping, without
target labels).
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from spigan.config import Config
from spigan.data import io
from spigan.data.transforms import tensor_to_image
from spigan.errors import SpiganError
from spigan.figures import privileged_to_rgb
from spigan.loss_config import split_pi
from spigan.inference import segment
from spigan.metrics_log import MetricsLog
from spigan.networks import Networks
from spigan.ontology import ONTOLOGIES, colorize, protocol_for
from spigan.scoring import evaluate_split
from spigan.sources import validation_samples

log = logging.getLogger("spigan")

SAMPLES = 2  # frames of each domain in the image panels
VALIDATION_TAG = "target_val/miou_uses_target_labels_not_for_model_selection"
COLUMNS = {
    "source": "x_s | G(x_s) | P's depth of G(x_s) (and each other kind of privileged information P learns: normals "
              "as (n + 1) / 2, boundaries grey) | T(x_s) | labels y_s (columns present as the method has them)",
    "target": "target frame | T(x) | its labels (target validation labels, shown only)",
}


class Monitor:
    """Image panels and the validation curve of a run; nothing without `metrics` (the
    processes of a distributed run other than the main one)."""

    def __init__(self, cfg: Config, nets: Networks, device: torch.device, metrics: MetricsLog | None):
        self.cfg, self.nets, self.device, self.metrics = cfg, nets, device, metrics
        self.variant = cfg.variant()
        self._frames: dict[str, list[dict]] | None = None
        self._val = None
        self._off: set[str] = set()  # what could not be shown (said once, then skipped)

    def after(self, iteration: int, last: bool = False) -> None:
        """Logs what is due at `iteration` (`last`: the run's final one). Images come at
        the first and the last iteration too, so a run shorter than image_every shows some."""
        t = self.cfg.train
        if self.metrics is None:
            return
        if t.image_every and (iteration % t.image_every == 0 or iteration == 1 or last):
            self._quietly(self.images, iteration, "train.image_every")
        if t.validate_every and iteration % t.validate_every == 0:
            self._quietly(self.validate, iteration, "train.validate_every")

    def _quietly(self, show, iteration: int, option: str) -> None:
        """`show(iteration)` in eval mode, without gradients, on a fork of the torch RNG. A
        split it cannot read (a dataset without a validation split, say) turns it off with
        a warning rather than stopping the run."""
        if option in self._off:
            return
        nets = list(self.nets.present().values())
        modes = [n.training for n in nets]
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            for n in nets:
                n.eval()
            try:
                show(iteration)
            except SpiganError as e:
                self._off.add(option)
                log.warning("%s: TensorBoard logging off for this run (%s)", option, e)
            finally:
                for n, mode in zip(nets, modes):
                    n.train(mode)

    def _samples(self) -> dict[str, list[dict]]:
        if self._frames is None:
            roles = ["source", "target"] if self.variant.train_role == "source" else ["target"]
            self._frames = {}
            for role in roles:
                split = validation_samples(self.cfg, role, ("image", "labels"))
                self._frames[role] = [split[k] for k in range(min(SAMPLES, len(split)))]
            self.metrics.text("images/columns", "\n\n".join(f"{role}: {COLUMNS[role]}" for role in self._frames))
        return self._frames

    def images(self, iteration: int) -> None:
        """One panel per fixed frame: the image, what G, P and T make of it, its labels."""
        palette = ONTOLOGIES[self.cfg.data.ontology][1]
        nets = self.nets
        dtype = next(nets.task.parameters()).dtype  # float64 under train.precision=fp64
        for role, frames in self._samples().items():
            for k, frame in enumerate(frames):
                x = frame["image"][None].to(self.device, dtype)  # (1, 3, h, w)
                panels = [tensor_to_image(x[0])]
                if role == "source" and nets.generator is not None:
                    adapted = nets.generator(x)
                    panels.append(tensor_to_image(adapted[0]))
                    if nets.privileged is not None:
                        loss = self.cfg.loss
                        for kind, raw in split_pi(nets.privileged(adapted), loss.pi).items():
                            panels.append(privileged_to_rgb(kind, raw[0].float().cpu().numpy(), loss))
                panels.append(colorize(segment(nets.task, x)[0].cpu().numpy().astype(np.uint8), palette))
                labels = frame["labels"].numpy().astype(np.uint8)
                panels.append(colorize(io.resize(labels, x.shape[-2:], nearest=True), palette))
                self.metrics.image(f"images/{role}_{k}", np.concatenate(panels, axis=1), iteration)

    def validate(self, iteration: int) -> None:
        """mIoU of T on the target's validation split (target labels: a curve to look at)."""
        if self._val is None:
            self._val = validation_samples(self.cfg)
            if hasattr(self._val.source, "prepare"):
                self._val.source.prepare(False)
        protocol = protocol_for(self.cfg.data.ontology, self.cfg.data.protocol)
        scores = evaluate_split(self.nets.task, self._val, protocol, self.device)
        self.metrics.scalar(VALIDATION_TAG, scores.miou, iteration)
