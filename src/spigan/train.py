"""The training loop: the SPIGAN schedule, when to log, when to check early stopping, when
to checkpoint, and the final evaluation. Everything it uses is built elsewhere: networks
and optimisers (build), the checkpoint format (checkpoint), the variant (variant), the
update steps (objective), the data (sources, data.datasets), the logs (metrics_log).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import random
import signal
import threading
import time
from pathlib import Path

import numpy as np
import torch

from spigan import distributed
from spigan.atomic import make_output_dir
from spigan.bf16_check import checked_precision
from spigan.build import (
    build_networks,
    build_optimizers,
    class_names,
    log_imagenet_weights,
    pretrained_report,
)
from spigan.checkpoint import (
    RunState,
    init_weights_from,
    keep_periodic,
    last_checkpoint,
    remove_stale_temporaries,
    save_checkpoint,
)
from spigan.config import Config, save_config
from spigan.data.datasets import EndlessBatches, Samples
from spigan.early_stopping import EarlyStopping
from spigan.errors import Interrupted, SpiganError
from spigan.figures import plot_losses
from spigan.hardware import (
    ThreadBudget,
    check_training_memory,
    choose_precision,
    resolve_device,
)
from spigan.metrics_log import MetricsLog, check_finite, interval_means, with_gradient_shares
from spigan.monitor import Monitor
from spigan.networks import Networks
from spigan.objective import (
    adaptation_step,
    discriminator_step,
    pretrain_step,
    supervised_step,
)
from spigan.resume import resumed_config
from spigan.scoring import evaluate_checkpoints
from spigan.sources import frame_source
from spigan.variant import Variant

log = logging.getLogger("spigan")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def run_iteration(variant: Variant, step_nets: dict[str, Networks], optimizers: dict, source_it, target_it,
                  generator_steps: int, device: torch.device, skip_nonfinite: bool,
                  scaler: torch.amp.GradScaler | None = None, measure_gradients: bool = False,
                  dtype: torch.dtype = torch.float32, task_learns: bool = True) -> dict[str, list[torch.Tensor]]:
    """One iteration of the variant; returns each loss term's values (detached, not synced).

    SPIGAN and its ablations: one D step, then `generator_steps` adaptation steps, each on
    a fresh source batch, the first of which also updates T and P (paper §4.1).
    `step_nets` holds, per kind of step, the networks to call (distributed.step_networks).
    `measure_gradients`: the first adaptation step also measures what each term of Eq. 1
    sends into G (objective.generator_gradient_norms). Images and the privileged information
    (z_s: variant.weights.pi's kinds) reach the networks in `dtype` (float64 under fp64).
    `task_learns=False` (train.adaptation_warmup): T, P fixed."""
    if not variant.adapted:  # one step on one labelled batch: of T alone, or of T, P and φ (pretrain)
        batch = next(source_it)
        x, y = batch["image"].to(device, dtype), batch["labels"].to(device)
        if variant.pretraining:
            step = pretrain_step(step_nets["pretrain"], optimizers, variant.weights, x, y,
                                 {key: v.to(device, dtype) for key, v in batch.items() if key in variant.weights.pi},
                                 skip_nonfinite, scaler)
        else:
            step = supervised_step(step_nets["supervised"].task, optimizers["task"], x, y, skip_nonfinite, scaler)
        return {k: [v] for k, v in step.items()}
    batch = next(source_it)
    x_r = next(target_it)["image"].to(device, dtype, non_blocking=True)
    nets = step_nets["discriminator"]
    step = discriminator_step(nets.generator, nets.discriminator, optimizers["discriminator"],
                              batch["image"].to(device, dtype), x_r, skip_nonfinite, scaler)
    terms = {k: [v] for k, v in step.items()}
    for k in range(generator_steps):
        if k > 0:
            batch = next(source_it)
        update = k == 0 and task_learns
        step = adaptation_step(step_nets["all" if update else "generator"], optimizers, variant.weights,
                               batch["image"].to(device, dtype), batch["labels"].to(device),
                               {key: v.to(device, dtype) for key, v in batch.items() if key in variant.weights.pi},
                               update_task_and_privileged=update, skip_nonfinite=skip_nonfinite, scaler=scaler,
                               measure_generator_gradients=measure_gradients and k == 0)
        for name, value in step.items():
            terms.setdefault(name, []).append(value)
    return terms


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


def _data_streams(cfg: Config, variant: Variant, ctx: distributed.Context, progress: bool):
    """The labelled stream T learns from (source frames, with depth for the adapted
    variants; target frames for target_only) and the unlabelled target stream (adapted
    variants only). Every source is listed (cheap, and where layout errors show) before
    any is rendered."""
    t, crop = cfg.train, (cfg.data.crop if cfg.data.crop != (0, 0) else None)
    labelled = frame_source(cfg, variant.train_role, "train", variant.batch_keys)
    target = frame_source(cfg, "target", "train", variant.target_keys) if variant.adapted else None
    for frames in (labelled, target):
        if hasattr(frames, "prepare"):
            frames.prepare(progress and ctx.is_main)
    source_it = EndlessBatches(Samples(labelled, crop, variant.batch_keys), t.batch_size, t.seed + 1, ctx.rank,
                               ctx.world_size, cfg.data.workers)
    target_it = None if target is None else EndlessBatches(Samples(target, crop, variant.target_keys), t.batch_size,
                                                           t.seed + 2, ctx.rank, ctx.world_size, cfg.data.workers)
    return source_it, target_it


def train(cfg: Config, run_dir: str | Path, progress: bool = True, resume: dict | None = None) -> dict:
    """Trains the config's variant and evaluates it; returns the results written to
    results.json. `resume`: a checkpoint of this run to continue from (see `resume_run`)."""
    from tqdm import tqdm

    cfg.validate()
    threads = ThreadBudget(cfg.train.threads)
    run_dir, t, variant = Path(run_dir), cfg.train, cfg.variant()
    device = resolve_device(t.device)
    if device.type == "cpu":
        check_training_memory(cfg)
    ctx = distributed.setup(device.type)
    device = distributed.rank_device(device, ctx)
    precision = checked_precision(choose_precision(t.precision, device), cfg, device, ctx)  # bf16 checked first
    seed_everything(t.seed)

    nets = build_networks(cfg, device, precision.dtype)
    # A new run only: a resumed one continues from its own checkpoint's weights.
    init_from = (init_weights_from(nets, t.init_from, class_names(cfg), t.init_networks, cfg.loss.pi)
                 if t.init_from and resume is None else None)
    optimizers = build_optimizers(nets, cfg)
    source_it, target_it = _data_streams(cfg, variant, ctx, progress)

    # Only now, with data and weights found readable, does the run directory appear.
    if ctx.is_main:
        make_output_dir(run_dir / "checkpoints", "run directory")
        remove_stale_temporaries(run_dir / "checkpoints")  # left by a write that was killed
        save_config(cfg, run_dir / "config.yaml")  # on resume too: the config it continues with
        log.info("precision %s (train.precision=%s: %s)", precision.used, precision.requested, precision.reason)
        if precision.warning:
            log.warning(precision.warning)
        log_imagenet_weights(nets, taken=(init_from or {}).get("networks", ()))
    state = RunState(nets, optimizers, EarlyStopping(cfg.early_stopping), source_it, target_it, init_from=init_from)
    if resume is not None:
        state.load_state_dict(resume)
    step_nets = distributed.step_networks(nets, ctx, device)
    metrics = MetricsLog(run_dir, resume_from=state.iteration if resume is not None else None) if ctx.is_main else None
    monitor = Monitor(cfg, nets, device, metrics)  # does nothing without metrics (ranks > 0)
    for net in nets.trainable().values():
        net.train()
    skip = t.nonfinite == "skip"
    # The diagnostic of what moves G runs on logging iterations; not under DDP, where an
    # extra backward pass through a wrapped G would confuse its gradient bookkeeping.
    measure = t.log_generator_gradients and variant.adapted and not ctx.enabled
    amp_dtype = precision.autocast_dtype
    # fp16 needs loss scaling; a scaler per optimiser group would be finer, one suffices here.
    scaler = torch.amp.GradScaler(device.type) if precision.used == "fp16" else None

    def save(name: str) -> None:
        check_finite(state.pending, skip)  # never write weights that came from a non-finite loss
        if ctx.is_main:
            save_checkpoint(run_dir / "checkpoints" / name, state.state_dict(cfg))
        distributed.barrier(ctx)

    bar = tqdm(total=t.iterations, initial=state.iteration, desc=f"{cfg.name} [{variant.method}]",
               disable=not (progress and ctx.is_main), dynamic_ncols=True)
    threads.start()
    thread_counts = [threads.threads]
    tic, start = time.perf_counter(), state.iteration
    # The bar's line ends before any error is printed; the data workers stop on every way out.
    with _StopSignals() as signals, bar, source_it, target_it or contextlib.nullcontext():
        while state.iteration < t.iterations:
            with torch.autocast(device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
                logging = (state.iteration + 1) % t.log_every == 0 or state.iteration + 1 == t.iterations
                terms = run_iteration(variant, step_nets, optimizers, source_it, target_it, t.generator_steps,
                                      device, skip, scaler, measure_gradients=measure and logging,
                                      dtype=precision.dtype, task_learns=state.iteration >= t.adaptation_warmup)
            state.iteration += 1
            iteration = state.iteration
            for name, values in terms.items():
                state.pending.setdefault(name, []).extend((iteration, v) for v in values)
            bar.update(1)

            # Iteration 1 too: a short run gets a curve. Its row closes no interval and checks no early stopping.
            first = iteration == 1 and t.log_every > 1 and t.iterations > 1
            if first or iteration % t.log_every == 0 or iteration == t.iterations:
                values = with_gradient_shares(distributed.mean_across(interval_means(state.pending, skip, keep=first),
                                                                      ctx, device))
                values["time/iterations_per_s"] = (iteration - start) / (time.perf_counter() - tic)
                values["time/threads"] = threads.threads  # used in this interval
                thread_counts.append(threads.update())
                fired = variant.adapted and not first and state.stopper.update(iteration, values["discriminator"],
                                                                               values["adversarial"])
                if state.stopper.ema_discriminator is not None:
                    values["early_stopping/ema_discriminator"] = state.stopper.ema_discriminator
                    values["early_stopping/ema_adversarial"] = state.stopper.ema_adversarial
                if fired:
                    if ctx.is_main:
                        log.info("early stopping fired at iteration %d (smoothed D loss %.3f < (1 - %.2f) x smoothed "
                                 "G adversarial loss %.3f)", iteration, state.stopper.ema_discriminator,
                                 cfg.early_stopping.margin, state.stopper.ema_adversarial)
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
            monitor.after(iteration, last=iteration == t.iterations)  # TensorBoard images; validation curve
            if distributed.any_across(signals.received is not None, ctx, device):
                save("last.pt")
                if metrics is not None:
                    metrics.close()
                distributed.teardown(ctx)
                raise Interrupted(f"interrupted at iteration {iteration}: checkpoint saved; continue with "
                                  f"`spigan train --resume {run_dir}`")
    save("last.pt")
    distributed.check_identical(nets.trainable(), ctx, device)
    train_seconds = time.perf_counter() - tic
    results = {}
    if ctx.is_main:
        metrics.close()
        result = evaluate_checkpoints(run_dir, cfg, device, progress)
        result = dataclasses.replace(
            result, method=variant.method, iterations=state.iteration, train_seconds=train_seconds,
            early_stopping_iteration=state.stopper.fired_at, imagenet_weights=pretrained_report(nets), world_size=ctx.world_size,
            precision=precision.to_dict(), init_from=state.init_from,
            threads={"setting": t.threads, "min": min(thread_counts), "max": max(thread_counts)})
        result.save(run_dir / "results.json")
        results = result.to_dict()
        plot_losses(metrics.rows, state.stopper.fired_at, run_dir / "figures" / "losses.png",
                    title=f"{cfg.name} [{variant.method}]")
    distributed.barrier(ctx)
    distributed.teardown(ctx)
    return results


def resume_run(run_dir: str | Path, progress: bool = True, threads: int | None = None,
               overrides: list[str] | None = None) -> dict:
    """Continues a run from its last checkpoint with its own config, changed by an edited
    RUN/config.yaml and `overrides` (`threads`: train.threads) in resume.RESUME_SAFE's keys."""
    run_dir = Path(run_dir)
    state = last_checkpoint(run_dir)
    extra = list(overrides or []) + ([f"train.threads={threads}"] if threads is not None else [])
    cfg, changes = resumed_config(state["config"], run_dir / "config.yaml", extra)
    if cfg.train.iterations < state["iteration"]:
        raise SpiganError(f"train.iterations: {cfg.train.iterations} is below the checkpoint's iteration "
                          f"{state['iteration']}")
    for change in changes:
        log.info("resume: %s", change)
    return train(cfg, run_dir, progress, resume=state)
