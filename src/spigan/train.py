"""The training loop: networks and optimisers per method, the SPIGAN schedule, early
stopping, logging (metrics.jsonl, TensorBoard, progress bar), atomic checkpoints, and the
final evaluation of the early-stopping and last checkpoints on the target's validation split.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import random
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from spigan import distributed
from spigan.atomic import write_atomically
from spigan.config import (ADAPTED, Config, EarlyStoppingConfig, config_from_dict, effective_weights, save_config,
                           to_dict)
from spigan.data.datasets import EndlessBatches, Samples, frame_source
from spigan.data.ontology import ONTOLOGIES
from spigan.errors import SpiganError
from spigan.evaluate import negative_transfer_ratio, protocol_for
from spigan.hardware import ThreadBudget, choose_precision
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
    nets = Networks(task=FCN8s(len(class_names(cfg)), m.fcn_width, m.fcn_fc_dim, m.vgg16_weights, m.fcn_input_padding,
                               m.fcn_dropout))
    if method in ADAPTED:
        nets.generator = ResnetGenerator(m.generator_width, m.generator_blocks, skip=m.generator_skip)
        nets.discriminator = PatchDiscriminator(m.discriminator_width, m.discriminator_layers)
        if w.privileged > 0:
            nets.privileged = FCN8s(1, m.fcn_width, m.fcn_fc_dim, m.vgg16_weights, m.fcn_input_padding, m.fcn_dropout)
        if w.perceptual > 0:
            nets.perceptual = PerceptualVGG19(m.perceptual_width, m.vgg19_weights)
    for net in nets.present().values():
        net.to(device)
        if cfg.train.channels_last:  # same mathematics; faster convolutions on CPU (docs/PERFORMANCE.md)
            net.to(memory_format=torch.channels_last)
    return nets


def pretrained_report(nets: Networks) -> dict[str, bool]:
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


@dataclass
class RunState:
    """Everything that changes during training, and so goes into checkpoints."""

    nets: Networks
    optimizers: dict[str, torch.optim.Optimizer]
    stopper: EarlyStopping
    source_it: EndlessBatches
    target_it: EndlessBatches | None
    iteration: int = 0
    # Loss values since the last log line: name -> [(iteration, 0-d tensor)]; not synced.
    pending: dict[str, list[tuple[int, torch.Tensor]]] = field(default_factory=dict)

    def state_dict(self, cfg: Config) -> dict:
        return {
            "format": "spigan-checkpoint-1",
            "config": to_dict(cfg),
            "classes": list(class_names(cfg)),
            "iteration": self.iteration,
            "networks": {name: net.state_dict() for name, net in self.nets.trainable().items()},
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "early_stopping": self.stopper.state_dict(),
            "data": {"source": self.source_it.state_dict(),
                     "target": self.target_it.state_dict() if self.target_it is not None else None},
            "pending": {k: {"iterations": torch.tensor([i for i, _ in v]), "values": torch.stack([x for _, x in v])}
                        for k, v in self.pending.items()},
            "rng": {"torch": torch.get_rng_state(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
        }

    def load_state_dict(self, state: dict) -> None:
        for name, net in self.nets.trainable().items():
            net.load_state_dict(state["networks"][name])
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        self.stopper.load_state_dict(state["early_stopping"])
        self.source_it.load_state_dict(state["data"]["source"])
        if self.target_it is not None:
            self.target_it.load_state_dict(state["data"]["target"])
        self.pending = {k: list(zip(v["iterations"].tolist(), v["values"].unbind()))
                        for k, v in state["pending"].items()}
        self.iteration = state["iteration"]
        torch.set_rng_state(state["rng"]["torch"])
        if state["rng"]["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])


def write_atomic(path: Path, state: dict) -> None:
    """torch.save, atomically: a crash, a full disk or a kill at any moment leaves the
    previous file intact."""
    try:
        write_atomically(path, lambda f: torch.save(state, f))
    except OSError as e:
        raise SpiganError(f"{path}: cannot write checkpoint ({e.strerror or e}); the previous one is intact") from e


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
    if list(state["classes"]) != list(class_names(cfg)):
        raise SpiganError(f"checkpoint's classes {state['classes']} differ from its config's "
                          f"{cfg.data.ontology} classes")
    if which not in state["networks"]:
        return None, cfg
    m = cfg.model
    out = len(state["classes"]) if which == "task" else 1
    net = FCN8s(out, m.fcn_width, m.fcn_fc_dim, input_padding=m.fcn_input_padding)  # weights: the checkpoint's
    try:
        net.load_state_dict(state["networks"][which])
    except RuntimeError as e:
        raise SpiganError(f"checkpoint's {which} network does not match its own config ({str(e).splitlines()[0]})") from e
    return net.to(device).eval(), cfg


# ---------------------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------------------


def run_iteration(method: str, nets: Networks, step_nets: dict[str, Networks], optimizers: dict, weights: Weights,
                  source_it, target_it, generator_steps: int, max_depth: float, device: torch.device,
                  skip_nonfinite: bool, scaler: torch.amp.GradScaler | None = None) -> dict[str, list[torch.Tensor]]:
    """One iteration of `method`; returns each loss term's values (detached, not synced).

    SPIGAN and its ablations: one D step, then `generator_steps` adaptation steps, each on
    a fresh source batch, the first of which also updates T and P (paper §4.1).
    `step_nets` holds, per kind of step, the networks to call: under DDP the ones trained in
    that step are wrapped, the frozen ones are not."""
    if method not in ADAPTED:
        batch = next(source_it)
        step = supervised_step(step_nets["supervised"].task, optimizers["task"], batch["image"].to(device),
                               batch["labels"].to(device), skip_nonfinite, scaler)
        return {k: [v] for k, v in step.items()}
    batch = next(source_it)
    x_r = next(target_it)["image"].to(device, non_blocking=True)
    step = discriminator_step(nets.generator, step_nets["discriminator"].discriminator, optimizers["discriminator"],
                              batch["image"].to(device), x_r, skip_nonfinite, scaler)
    terms = {k: [v] for k, v in step.items()}
    for k in range(generator_steps):
        if k > 0:
            batch = next(source_it)
        step = adaptation_step(step_nets["all" if k == 0 else "generator"], optimizers, weights,
                               batch["image"].to(device), batch["labels"].to(device), batch["depth"].to(device),
                               update_task_and_privileged=(k == 0), max_depth=max_depth, skip_nonfinite=skip_nonfinite,
                               scaler=scaler)
        for name, value in step.items():
            terms.setdefault(name, []).append(value)
    return terms


def step_networks(nets: Networks, ctx: distributed.Context, device: torch.device) -> dict[str, Networks]:
    """Per kind of step, which module to call for each network: DDP wrappers for those the
    step trains (one forward, one backward each), plain modules for the frozen ones."""
    if not ctx.enabled:
        return {"supervised": nets, "discriminator": nets, "all": nets, "generator": nets}
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [device.index] if device.type == "cuda" else None
    wrapped = {name: DDP(net, device_ids=ids) for name, net in nets.trainable().items()}
    w = lambda name: wrapped.get(name)  # noqa: E731
    return {
        "supervised": Networks(task=w("task")),
        "discriminator": Networks(task=nets.task, discriminator=w("discriminator")),
        "all": Networks(task=w("task"), generator=w("generator"), discriminator=nets.discriminator,
                        privileged=w("privileged"), perceptual=nets.perceptual),
        "generator": Networks(task=nets.task, generator=w("generator"), discriminator=nets.discriminator,
                              privileged=nets.privileged, perceptual=nets.perceptual),
    }


class MetricsLog:
    """metrics.jsonl (one JSON object per logged iteration) and TensorBoard scalars.

    On resume, rows logged after the checkpoint are dropped from metrics.jsonl and purged
    from TensorBoard, so both read as one uninterrupted run."""

    def __init__(self, run_dir: Path, resume_from: int | None = None):
        from torch.utils.tensorboard import SummaryWriter

        path = run_dir / "metrics.jsonl"
        self.rows: list[dict] = []
        if resume_from is not None and path.exists():
            for line in path.read_text().splitlines():
                try:
                    row = json.loads(line)
                except ValueError:  # a line cut by a kill
                    continue
                if row["iteration"] <= resume_from:
                    self.rows.append(row)
        with open(path, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in self.rows)
        self.file = open(path, "a")
        self.writer = SummaryWriter(str(run_dir / "tensorboard"),
                                    purge_step=resume_from + 1 if resume_from is not None else None)

    def write(self, iteration: int, values: dict[str, float]) -> None:
        row = {"iteration": iteration, **values}
        self.rows.append(row)
        self.file.write(json.dumps(row) + "\n")
        self.file.flush()
        for k, v in values.items():
            self.writer.add_scalar(f"loss/{k}" if "/" not in k else k, v, iteration)

    def close(self) -> None:
        self.file.close()
        self.writer.close()


class Interrupted(Exception):
    """Training stopped by SIGINT or SIGTERM after saving a checkpoint."""


class _StopSignals:
    """Turns SIGINT/SIGTERM into a flag the loop checks between iterations."""

    def __init__(self):
        self.received: int | None = None
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        self.received = signum

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _check_finite(pending: dict, skip: bool) -> None:
    """In `stop` mode, a non-finite loss ends the run naming the term and the iteration."""
    if skip:
        return
    for name, entries in pending.items():
        values = torch.stack([v for _, v in entries]).float()
        bad = (~torch.isfinite(values)).nonzero()
        if len(bad):
            iteration = entries[int(bad[0])][0]
            raise SpiganError(f"non-finite {name} loss ({values[int(bad[0])].item()}) at iteration {iteration}; "
                              f"stopped without saving it (train.nonfinite=skip skips such batches instead)")


def train(cfg: Config, run_dir: str | Path, progress: bool = True, resume: dict | None = None) -> dict:
    """Trains `cfg.train.method` and evaluates it; returns the results written to results.json.

    `resume`: a checkpoint of this run to continue from (see `resume_run`)."""
    from tqdm import tqdm

    cfg.validate()
    threads = ThreadBudget(cfg.train.threads)
    run_dir = Path(run_dir)
    t = cfg.train
    device = resolve_device(t.device)
    precision = choose_precision(t.precision, device)
    ctx = distributed.setup(device.type)
    if ctx.enabled and device.type == "cuda":
        device = torch.device("cuda", ctx.local_rank)
    seed_everything(t.seed)
    method = t.method

    nets = build_networks(cfg, device)
    optimizers = build_optimizers(nets, cfg)
    pretrained = pretrained_report(nets)
    if ctx.is_main:
        log.info("precision %s (train.precision=%s: %s)", precision.used, precision.requested, precision.reason)
        if precision.warning:
            log.warning(precision.warning)
        for name, ok in pretrained.items():
            if not ok:
                log.warning("%s starts from random initialisation, not ImageNet weights (set model.vgg16_weights / "
                            "model.vgg19_weights to use them)", name)
    w = effective_weights(cfg)
    weights = Weights(w.adversarial, w.task, w.privileged, w.perceptual)

    # Data: labelled source with depth; unlabelled target images; labelled target for target_only.
    # Every source is listed (cheap, and where layout errors show) before any is rendered.
    crop = cfg.data.crop if cfg.data.crop != (0, 0) else None
    if method == "target_only":
        train_source, source_keys = frame_source(cfg, "target", "train"), ("image", "labels")
    else:
        train_source = frame_source(cfg, "source", "train")
        source_keys = ("image", "labels", "depth") if method in ADAPTED else ("image", "labels")
    target = frame_source(cfg, "target", "train") if method in ADAPTED else None
    for frames in (train_source, target):
        if hasattr(frames, "prepare"):
            frames.prepare(progress and ctx.is_main)
    source_it = EndlessBatches(Samples(train_source, crop, source_keys), t.batch_size, t.seed + 1, ctx.rank,
                               ctx.world_size, cfg.data.workers)
    target_it = None
    if target is not None:
        target_it = EndlessBatches(Samples(target, crop, ("image",)), t.batch_size, t.seed + 2, ctx.rank,
                                   ctx.world_size, cfg.data.workers)

    # Only now, with data and weights found readable, does the run directory appear.
    if ctx.is_main:
        (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
        for stale in (run_dir / "checkpoints").glob(".*.tmp"):  # left by a write that was killed
            stale.unlink()
        if resume is None:
            save_config(cfg, run_dir / "config.yaml")
    state = RunState(nets, optimizers, EarlyStopping(cfg.early_stopping), source_it, target_it)
    if resume is not None:
        state.load_state_dict(resume)
    step_nets = step_networks(nets, ctx, device)
    metrics = MetricsLog(run_dir, resume_from=state.iteration if resume is not None else None) if ctx.is_main else None
    for net in nets.trainable().values():
        net.train()
    skip = t.nonfinite == "skip"
    amp_dtype = precision.autocast_dtype
    # fp16 needs loss scaling; a scaler per optimiser group would be finer, one suffices here.
    scaler = torch.amp.GradScaler(device.type) if precision.used == "fp16" else None

    def save(name: str) -> None:
        _check_finite(state.pending, skip)  # never write weights that came from a non-finite loss
        if ctx.is_main:
            write_atomic(run_dir / "checkpoints" / name, state.state_dict(cfg))
        distributed.barrier(ctx)

    bar = tqdm(total=t.iterations, initial=state.iteration, desc=f"{cfg.name} [{method}]",
               disable=not (progress and ctx.is_main), dynamic_ncols=True)
    threads.start()
    thread_counts = [threads.threads]
    tic, start = time.perf_counter(), state.iteration
    with _StopSignals() as signals:
        while state.iteration < t.iterations:
            with torch.autocast(device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
                terms = run_iteration(method, nets, step_nets, optimizers, weights, source_it, target_it,
                                      t.generator_steps, cfg.loss.max_depth, device, skip, scaler)
            state.iteration += 1
            iteration = state.iteration
            for name, values in terms.items():
                state.pending.setdefault(name, []).extend((iteration, v) for v in values)
            bar.update(1)

            if iteration % t.log_every == 0 or iteration == t.iterations:
                # The only host-device synchronisation: once per logging interval.
                _check_finite(state.pending, skip)
                values = {k: float(torch.nanmean(torch.stack([v for _, v in e]).float())) for k, e in
                          state.pending.items() if k != "skipped"}
                if "skipped" in state.pending:
                    values["skipped"] = float(sum(float(v) for _, v in state.pending["skipped"]))
                state.pending.clear()
                values = distributed.mean_across(values, ctx, device)
                values["time/iterations_per_s"] = (iteration - start) / (time.perf_counter() - tic)
                values["time/threads"] = threads.threads  # used in this interval
                thread_counts.append(threads.update())
                fired = method in ADAPTED and state.stopper.update(iteration, values["discriminator"],
                                                                   values["adversarial"])
                if state.stopper.ema_discriminator is not None:
                    values["early_stopping/ema_discriminator"] = state.stopper.ema_discriminator
                    values["early_stopping/ema_adversarial"] = state.stopper.ema_adversarial
                if fired and ctx.is_main:
                    log.info("early stopping fired at iteration %d (smoothed D loss %.3f < (1 - %.2f) x smoothed G "
                             "adversarial loss %.3f)", iteration, state.stopper.ema_discriminator,
                             cfg.early_stopping.margin, state.stopper.ema_adversarial)
                if fired:
                    save("early_stop.pt")
                if metrics is not None:
                    metrics.write(iteration, values)
                bar.set_postfix({k: f"{v:.3f}" for k, v in values.items() if k in
                                 ("discriminator", "adversarial", "task_adapted", "task_source")})
                if state.stopper.fired_at == iteration and cfg.early_stopping.halt:
                    break
            if iteration % t.checkpoint_every == 0:
                save("last.pt")
                if ctx.is_main:
                    keep_periodic(run_dir / "checkpoints", iteration, t.keep_checkpoints)
            if distributed.any_across(signals.received is not None, ctx, device):
                save("last.pt")
                if metrics is not None:
                    metrics.close()
                bar.close()
                distributed.teardown(ctx)
                raise Interrupted(f"interrupted at iteration {iteration}: checkpoint saved; continue with "
                                  f"`spigan train --resume {run_dir}`")
    bar.close()
    save("last.pt")
    distributed.check_identical(nets.trainable(), ctx, device)
    train_seconds = time.perf_counter() - tic
    results = {}
    if ctx.is_main:
        metrics.close()
        results = evaluate_run(run_dir, cfg, device, progress)
        results.update({
            "method": method, "iterations": state.iteration, "train_seconds": train_seconds,
            "early_stopping_iteration": state.stopper.fired_at, "imagenet_weights": pretrained,
            "world_size": ctx.world_size, "precision": precision.to_dict(),
            "threads": {"setting": t.threads, "min": min(thread_counts), "max": max(thread_counts)},
        })
        (run_dir / "results.json").write_text(json.dumps(results, indent=2))
        from spigan.report import plot_losses

        plot_losses(metrics.rows, state.stopper.fired_at, run_dir / "figures" / "losses.png",
                    title=f"{cfg.name} [{method}]")
    distributed.barrier(ctx)
    distributed.teardown(ctx)
    return results


def resume_run(run_dir: str | Path, progress: bool = True, threads: int | None = None) -> dict:
    """Continues a run from its last checkpoint, with the configuration it was started with
    (`threads`, if given, replaces train.threads: it changes no result beyond the last bits)."""
    run_dir = Path(run_dir)
    state = load_checkpoint(run_dir / "checkpoints" / "last.pt")
    cfg = config_from_dict(state["config"])
    if threads is not None:
        cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, threads=threads))
    return train(cfg, run_dir, progress, resume=state)


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
