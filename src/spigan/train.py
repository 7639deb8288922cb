"""The training loop: networks and optimisers per method, the SPIGAN schedule, early
stopping, logging (metrics.jsonl, TensorBoard, progress bar), atomic checkpoints, and the
final evaluation of the early-stopping and last checkpoints on the target's validation split.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from spigan.config import ADAPTED, Config, EarlyStoppingConfig, config_from_dict, effective_weights, save_config, to_dict
from spigan.data.datasets import Samples, forever, frame_source, loader
from spigan.data.ontology import ONTOLOGIES
from spigan.errors import SpiganError
from spigan.evaluate import negative_transfer_ratio, protocol_for
from spigan.inference import evaluate_split
from spigan.models import FCN8s, PatchDiscriminator, PerceptualVGG19, ResnetGenerator
from spigan.objective import Networks, Weights, adaptation_step, discriminator_step, supervised_step

log = logging.getLogger("spigan")


# ---------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------


def class_names(cfg: Config) -> tuple[str, ...]:
    """The classes T predicts (the training ontology)."""
    return ONTOLOGIES[cfg.data.ontology][0]


def build_networks(cfg: Config, device: torch.device) -> Networks:
    """Only what the method needs: `source_only`/`target_only` build T alone; `no_pi` no P;
    `base` neither P nor φ."""
    m, w = cfg.model, effective_weights(cfg)
    method = cfg.train.method
    nets = Networks(task=FCN8s(len(class_names(cfg)), m.fcn_width, m.fcn_fc_dim, m.vgg16_weights, m.fcn_input_padding))
    if method in ADAPTED:
        nets.generator = ResnetGenerator(m.generator_width, m.generator_blocks, skip=m.generator_skip)
        nets.discriminator = PatchDiscriminator(m.discriminator_width, m.discriminator_layers)
        if w.privileged > 0:
            nets.privileged = FCN8s(1, m.fcn_width, m.fcn_fc_dim, m.vgg16_weights, m.fcn_input_padding)
        if w.perceptual > 0:
            nets.perceptual = PerceptualVGG19(m.perceptual_width, m.vgg19_weights)
    for net in (nets.task, nets.generator, nets.discriminator, nets.privileged, nets.perceptual):
        if net is not None:
            net.to(device)
    return nets


def pretrained_report(cfg: Config, nets: Networks) -> dict[str, bool]:
    """Which VGGs start from ImageNet weights (reported loudly in logs and results)."""
    report = {"task (VGG16)": nets.task.pretrained}
    if nets.privileged is not None:
        report["privileged (VGG16)"] = nets.privileged.pretrained
    if nets.perceptual is not None:
        report["perceptual φ (VGG19)"] = nets.perceptual.pretrained
    return report


def build_optimizers(nets: Networks, cfg: Config) -> dict[str, torch.optim.Optimizer]:
    t = cfg.train
    return {name: torch.optim.Adam(net.parameters(), lr=t.lr, betas=(t.beta1, t.beta2))
            for name, net in nets.trainable().items()}


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise SpiganError("train.device: cuda requested but no GPU is available")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ---------------------------------------------------------------------------------------
# Early stopping (paper §4.1)
# ---------------------------------------------------------------------------------------


class EarlyStopping:
    """Fires once, when the smoothed discriminator loss has stayed below (1 - margin) times
    the smoothed generator adversarial loss for `patience` consecutive checks from `warmup`
    on (see EarlyStoppingConfig)."""

    def __init__(self, cfg: EarlyStoppingConfig):
        self.cfg = cfg
        self.ema_discriminator: float | None = None
        self.ema_adversarial: float | None = None
        self.streak = 0
        self.fired_at: int | None = None

    def update(self, iteration: int, discriminator: float, adversarial: float) -> bool:
        """Feeds one check (the losses averaged over a logging interval); True exactly when
        the rule fires."""
        if iteration < self.cfg.warmup:
            return False
        s = self.cfg.smoothing
        if self.ema_discriminator is None:
            self.ema_discriminator, self.ema_adversarial = discriminator, adversarial
        else:
            self.ema_discriminator = s * self.ema_discriminator + (1 - s) * discriminator
            self.ema_adversarial = s * self.ema_adversarial + (1 - s) * adversarial
        if not self.cfg.enabled or self.fired_at is not None:
            return False
        below = self.ema_discriminator < (1 - self.cfg.margin) * self.ema_adversarial
        self.streak = self.streak + 1 if below else 0
        if self.streak >= self.cfg.patience:
            self.fired_at = iteration
            return True
        return False

    def state_dict(self) -> dict:
        return {"ema_discriminator": self.ema_discriminator, "ema_adversarial": self.ema_adversarial,
                "streak": self.streak, "fired_at": self.fired_at}

    def load_state_dict(self, state: dict) -> None:
        self.ema_discriminator = state["ema_discriminator"]
        self.ema_adversarial = state["ema_adversarial"]
        self.streak = state["streak"]
        self.fired_at = state["fired_at"]


# ---------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------


def save_checkpoint(path: Path, cfg: Config, nets: Networks, optimizers: dict, iteration: int,
                    stopper: EarlyStopping) -> None:
    """Everything needed to evaluate or resume, written atomically (temporary file, fsync,
    rename): a crash leaves the previous checkpoint intact."""
    state = {
        "format": "spigan-checkpoint-1",
        "config": to_dict(cfg),
        "classes": list(class_names(cfg)),
        "iteration": iteration,
        "networks": {name: net.state_dict() for name, net in nets.trainable().items()},
        "optimizers": {name: opt.state_dict() for name, opt in optimizers.items()},
        "early_stopping": stopper.state_dict(),
        "rng": {"torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def keep_periodic(folder: Path, iteration: int, keep: int) -> None:
    """Keeps a copy of last.pt as iter_NNNNNNN.pt and removes all but the newest `keep`."""
    if keep <= 0:
        return
    tmp = folder / f".iter_{iteration:07d}.pt.tmp"
    shutil.copyfile(folder / "last.pt", tmp)
    os.replace(tmp, folder / f"iter_{iteration:07d}.pt")
    for old in sorted(folder.glob("iter_*.pt"))[:-keep]:
        old.unlink()


def load_checkpoint(path: str | Path) -> dict:
    """Reads a checkpoint without unpickling code (tensors and plain containers only)."""
    path = Path(path)
    if not path.is_file():
        raise SpiganError(f"{path}: checkpoint not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise SpiganError(f"{path}: not a loadable checkpoint ({type(e).__name__}: {str(e).splitlines()[0]})") from e
    if not isinstance(state, dict) or state.get("format") != "spigan-checkpoint-1":
        raise SpiganError(f"{path}: not a spigan checkpoint")
    return state


def task_net_from_checkpoint(state: dict, device: torch.device, which: str = "task"):
    """Rebuilds T (or P) from a checkpoint's own config; returns (net, config)."""
    cfg = config_from_dict(state["config"])
    if which not in state["networks"]:
        return None, cfg
    m = cfg.model
    out = len(state["classes"]) if which == "task" else 1
    net = FCN8s(out, m.fcn_width, m.fcn_fc_dim, input_padding=m.fcn_input_padding)  # weights: the checkpoint's
    net.load_state_dict(state["networks"][which])
    return net.to(device).eval(), cfg


# ---------------------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------------------


def run_iteration(method: str, nets: Networks, optimizers: dict, weights: Weights, source_it, target_it,
                  generator_steps: int, max_depth: float, device: torch.device) -> dict[str, list[torch.Tensor]]:
    """One iteration of `method`; returns each loss term's values (detached, not synced).

    SPIGAN and its ablations: one D step, then `generator_steps` adaptation steps, each on
    a fresh source batch, the first of which also updates T and P (paper §4.1)."""
    terms: dict[str, list[torch.Tensor]] = {}
    if method not in ADAPTED:
        batch = next(source_it)
        step = supervised_step(nets.task, optimizers["task"], batch["image"].to(device), batch["labels"].to(device))
        return {k: [v] for k, v in step.items()}
    batch = next(source_it)
    x_r = next(target_it)["image"].to(device, non_blocking=True)
    step = discriminator_step(nets.generator, nets.discriminator, optimizers["discriminator"],
                              batch["image"].to(device), x_r)
    terms = {k: [v] for k, v in step.items()}
    for k in range(generator_steps):
        if k > 0:
            batch = next(source_it)
        step = adaptation_step(nets, optimizers, weights, batch["image"].to(device), batch["labels"].to(device),
                               batch["depth"].to(device), update_task_and_privileged=(k == 0), max_depth=max_depth)
        for name, value in step.items():
            terms.setdefault(name, []).append(value)
    return terms


class MetricsLog:
    """metrics.jsonl (one JSON object per logged iteration) and TensorBoard scalars."""

    def __init__(self, run_dir: Path):
        from torch.utils.tensorboard import SummaryWriter

        self.file = open(run_dir / "metrics.jsonl", "a")
        self.writer = SummaryWriter(str(run_dir / "tensorboard"))

    def write(self, iteration: int, values: dict[str, float]) -> None:
        self.file.write(json.dumps({"iteration": iteration, **values}) + "\n")
        self.file.flush()
        for k, v in values.items():
            self.writer.add_scalar(f"loss/{k}" if not k.startswith(("time", "early")) else k, v, iteration)

    def close(self) -> None:
        self.file.close()
        self.writer.close()


def train(cfg: Config, run_dir: str | Path, progress: bool = True) -> dict:
    """Trains `cfg.train.method` and evaluates it; returns the results written to results.json."""
    from tqdm import tqdm

    cfg.validate()
    run_dir = Path(run_dir)
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    save_config(cfg, run_dir / "config.yaml")
    t = cfg.train
    if t.threads > 0:
        torch.set_num_threads(t.threads)
    device = resolve_device(t.device)
    seed_everything(t.seed)
    method = t.method

    nets = build_networks(cfg, device)
    optimizers = build_optimizers(nets, cfg)
    pretrained = pretrained_report(cfg, nets)
    for name, ok in pretrained.items():
        if not ok:
            log.warning("%s starts from random initialisation, not ImageNet weights (set model.vgg16_weights / "
                        "model.vgg19_weights to use them)", name)
    w = effective_weights(cfg)
    weights = Weights(w.adversarial, w.task, w.privileged, w.perceptual)

    # Data: labelled source with depth; unlabelled target images; labelled target for target_only.
    crop = cfg.data.crop if cfg.data.crop != (0, 0) else None
    if method == "target_only":
        train_source = frame_source(cfg, "target", "train")
        source_keys = ("image", "labels")
    else:
        train_source = frame_source(cfg, "source", "train")
        source_keys = ("image", "labels", "depth") if method in ADAPTED else ("image", "labels")
    if hasattr(train_source, "prepare"):
        train_source.prepare(progress)
    source_it = forever(loader(Samples(train_source, crop, source_keys), t.batch_size, t.seed + 1, cfg.data.workers))
    target_it = None
    if method in ADAPTED:
        target = frame_source(cfg, "target", "train")
        if hasattr(target, "prepare"):
            target.prepare(progress)
        target_it = forever(loader(Samples(target, crop, ("image",)), t.batch_size, t.seed + 2, cfg.data.workers))

    stopper = EarlyStopping(cfg.early_stopping)
    metrics = MetricsLog(run_dir)
    history: list[dict] = []
    pending: dict[str, list[torch.Tensor]] = {}
    for net in nets.trainable().values():
        net.train()

    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=t.precision == "bf16")
    bar = tqdm(range(t.iterations), desc=f"{cfg.name} [{method}]", disable=not progress, dynamic_ncols=True)
    tic = time.perf_counter()
    for it in bar:
        iteration = it + 1
        with autocast:
            for name, values in run_iteration(method, nets, optimizers, weights, source_it, target_it,
                                              t.generator_steps, cfg.loss.max_depth, device).items():
                pending.setdefault(name, []).extend(values)
        if iteration % t.log_every == 0 or iteration == t.iterations:
            # The only host-device synchronisation: once per logging interval.
            values = {k: float(torch.stack(v).float().mean()) for k, v in pending.items()}
            pending.clear()
            elapsed = time.perf_counter() - tic
            values["time/iterations_per_s"] = iteration / elapsed
            if method in ADAPTED:
                fired = stopper.update(iteration, values["discriminator"], values["adversarial"])
                if stopper.ema_discriminator is not None:
                    values["early_stopping/ema_discriminator"] = stopper.ema_discriminator
                    values["early_stopping/ema_adversarial"] = stopper.ema_adversarial
                if fired:
                    log.info("early stopping fired at iteration %d (smoothed D loss %.3f < (1 - %.2f) x smoothed G "
                             "adversarial loss %.3f)", iteration, stopper.ema_discriminator, cfg.early_stopping.margin,
                             stopper.ema_adversarial)
                    save_checkpoint(run_dir / "checkpoints" / "early_stop.pt", cfg, nets, optimizers, iteration, stopper)
            metrics.write(iteration, values)
            history.append({"iteration": iteration, **values})
            bar.set_postfix({k: f"{v:.3f}" for k, v in values.items() if "/" not in k and k in
                             ("discriminator", "adversarial", "task_adapted", "task_source", "privileged_adapted")})
            if stopper.fired_at == iteration and cfg.early_stopping.halt:
                break
        if iteration % t.checkpoint_every == 0:
            save_checkpoint(run_dir / "checkpoints" / "last.pt", cfg, nets, optimizers, iteration, stopper)
            keep_periodic(run_dir / "checkpoints", iteration, t.keep_checkpoints)
    bar.close()
    save_checkpoint(run_dir / "checkpoints" / "last.pt", cfg, nets, optimizers, iteration, stopper)
    metrics.close()
    train_seconds = time.perf_counter() - tic

    results = evaluate_run(run_dir, cfg, device, progress)
    results.update({
        "method": method, "iterations": iteration, "train_seconds": train_seconds,
        "early_stopping_iteration": stopper.fired_at, "imagenet_weights": pretrained,
    })
    (run_dir / "results.json").write_text(json.dumps(results, indent=2))
    from spigan.report import plot_losses

    plot_losses(history, stopper.fired_at, run_dir / "figures" / "losses.png", title=f"{cfg.name} [{method}]")
    return results


def evaluate_run(run_dir: Path, cfg: Config, device: torch.device, progress: bool = False) -> dict:
    """Scores the run's checkpoints on the target validation split. The default model is
    the early-stopping one when the rule fired (chosen without target labels), else the last."""
    protocol = protocol_for(cfg.data.ontology, cfg.data.protocol)
    val = Samples(frame_source(cfg, "target", "val"), None, ("image", "labels"))
    if hasattr(val.source, "prepare"):
        val.source.prepare(progress)
    out: dict = {"protocol": protocol.name, "checkpoints": {}}
    for name in ("early_stop", "last"):
        path = run_dir / "checkpoints" / f"{name}.pt"
        if path.exists():
            net, _ = task_net_from_checkpoint(load_checkpoint(path), device)
            out["checkpoints"][name] = evaluate_split(net, val, protocol, device, progress=progress).to_dict()
    out["default"] = "early_stop" if "early_stop" in out["checkpoints"] else "last"
    return out


def negative_transfer(results: dict, baseline: dict) -> float:
    """Negative-transfer ratio of a run's default model against a baseline run's."""
    a = results["checkpoints"][results["default"]]["per_image_miou"]
    b = baseline["checkpoints"][baseline["default"]]["per_image_miou"]
    to_array = lambda v: np.array([np.nan if x is None else x for x in v])  # noqa: E731
    return negative_transfer_ratio(to_array(a), to_array(b))
