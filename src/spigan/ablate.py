"""`spigan ablate`: the paper's ablation (Table 2) as one command.

For each seed, trains source_only, base, no_pi, spigan and target_only on the same data and
configuration, into OUT/METHOD-sSEED. Re-running skips finished runs and resumes
interrupted ones from their last checkpoint. Then writes the report (report.md/.csv/.json
and figures) from the finished runs.

A warm start (`--warm-start N`) first pretrains T, P and φ on the simulator for N
iterations per seed (`train.method: pretrain`, into OUT/pretrain-sSEED; skipped and resumed
like the rest), and starts every run of that seed from it (`train.init_from`): the paper
starts from ImageNet weights, and this is the simulator's stand-in where there are none.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path

import torch
import yaml

from spigan.checkpoint import (
    checkpoint_config,
    load_checkpoint,
    network_from_checkpoint,
)
from spigan.config import Config, config_from_dict, load_config, to_dict, with_method
from spigan.errors import Interrupted, SpiganError
from spigan.hardware import usable_cpus
from spigan.ontology import protocol_for
from spigan.report import load_runs, write_report
from spigan.results import RunResult
from spigan.scoring import evaluate_split
from spigan.sources import VALIDATION_KEYS, frame_source, validation_samples
from spigan.train import resume_run, train
from spigan.variant import PRETRAIN

# Table 2's rows, cheapest first; source_only comes first as every negative-transfer ratio needs it.
ABLATION = ("source_only", "base", "no_pi", "spigan", "target_only")


def run_config(base: Config, method: str, seed: int, init_from: str = "") -> Config:
    """A run of the ablation: `base` training `method` with `seed`, started from `init_from`
    (its seed's pretraining under a warm start) if given."""
    cfg = with_method(base, method, seed, name=f"{base.name}-{method}-s{seed}")
    return dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, init_from=init_from)) if init_from else cfg


def pretrain_config(base: Config, seed: int, iterations: int) -> Config:
    """A warm start's pretraining: `base` training `pretrain` with `seed` for `iterations`."""
    cfg = run_config(base, PRETRAIN, seed)
    return dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, iterations=iterations))


def add_oracle(run_dir: Path) -> None:
    """Scores every kept checkpoint on the target validation labels and records the best
    as the `oracle` checkpoint: a model choice no unsupervised method could make."""
    result = RunResult.load(run_dir / "results.json")
    if "oracle" in result.checkpoints:
        return
    best, samples = None, None
    for path in sorted((run_dir / "checkpoints").glob("*.pt")):
        state = load_checkpoint(path)
        cfg = checkpoint_config(state)
        if samples is None:
            samples = validation_samples(cfg)
        scores = evaluate_split(network_from_checkpoint(state, "task", cfg=cfg), samples,
                                protocol_for(cfg.data.ontology, cfg.data.protocol), torch.device("cpu"))
        if best is None or scores.miou > best.miou:
            best = dataclasses.replace(scores, iteration=state["iteration"])
    result.checkpoints["oracle"] = best
    result.save(run_dir / "results.json")


# Relative cost of one iteration (CPU, the CPU configs): the longest runs start first when
# several run at once, so that no long run is left alone at the end.
COST = {"spigan": 1.0, "no_pi": 0.8, "base": 0.55, "target_only": 0.1, "source_only": 0.1, PRETRAIN: 0.25}


def _comparable(cfg: Config) -> dict:
    """A run's configuration without the settings that do not change what it computes up to
    the last bits (the thread count; for a pretraining, which never stops early, the
    early-stopping rule), so a run trained with other threads still matches, and one
    pretraining serves ablations that differ only in when their adapted runs stop."""
    d = to_dict(cfg)
    d["train"].pop("threads")
    if cfg.variant().pretraining:
        d.pop("early_stopping")
    return d


# In a worker process: one of its runs was interrupted. A pool hands each worker its next
# run before the last one ends, so without this a worker whose run stopped on Ctrl-C (or
# SIGTERM) would start the queued one and train it to the end.
_interrupted_worker = False


def train_or_resume(cfg_dict: dict, run_dir: str, progress: bool) -> str:
    """One run, trained or continued from its last checkpoint (also in a worker process,
    which starts no further run once one of its runs was interrupted)."""
    global _interrupted_worker
    run_dir = Path(run_dir)
    if _interrupted_worker:
        raise Interrupted(f"{run_dir}: not started, an earlier run of this worker was interrupted")
    try:
        if (run_dir / "checkpoints" / "last.pt").exists():
            resume_run(run_dir, progress, threads=config_from_dict(cfg_dict).train.threads)
            return "resumed"
        train(config_from_dict(cfg_dict), run_dir, progress)
        return "trained"
    except (Interrupted, KeyboardInterrupt):
        _interrupted_worker = multiprocessing.parent_process() is not None  # never the main process: it may resume
        raise


def prepare_data(cfg: Config, progress: bool) -> None:
    """Renders the simulator frames every run shares once, before parallel runs start: the
    training frames and the target's validation frames (scored). The source's validation
    frames are only shown (figures, TensorBoard), a handful of them: those render when first
    shown, and are cached like the rest."""
    variant = cfg.variant()  # a real dataset's files are listed (for their labels, depth) as its runs will
    roles = [("source", "train", variant.batch_keys), ("target", "train", variant.target_keys),
             ("target", "val", VALIDATION_KEYS)]
    for role, split, keys in roles:
        frames = frame_source(cfg, role, split, keys)
        if hasattr(frames, "prepare"):
            frames.prepare(progress)


def _to_train(cfg: Config, run_dir: Path) -> bool:
    """Whether a run is still to be trained or finished (else it is reported skipped); a
    folder holding a run of another configuration is refused."""
    saved = run_dir / "config.yaml"
    # Compared through the config layer, so a run saved before a new option existed
    # (and so without its key) still matches when the option keeps its default.
    if saved.exists() and _comparable(config_from_dict(yaml.safe_load(saved.read_text()))) != _comparable(cfg):
        raise SpiganError(f"{run_dir}: holds a run of another configuration (use another --out)")
    if (run_dir / "results.json").exists():
        print(f"{cfg.variant().method}, seed {cfg.train.seed}: finished, skipped", flush=True)
        return False
    return True


class RunQueue:
    """The runs of a parallel ablation still to start, and which may start now: a
    pretraining first (every run of its seed waits for it), then the longest (COST), so the
    long runs do not end the ablation alone; a run whose warm start (`train.init_from`) is
    one of these runs starts once that one has finished, not when every pretraining has,
    so no core waits while the last pretraining trains."""

    def __init__(self, todo: list[tuple[Config, Path]]):
        self.waiting = sorted(todo, key=lambda job: (not job[0].variant().pretraining, -COST[job[0].variant().method]))
        self.in_todo = {run_dir.resolve() for _, run_dir in todo}
        self.done: set[Path] = set()

    def next(self) -> tuple[Config, Path] | None:
        """The next run to start (removed from the queue), or None while every run left waits."""
        for job in self.waiting:
            warm_start = Path(job[0].train.init_from).resolve() if job[0].train.init_from else None
            if warm_start is None or warm_start not in self.in_todo or warm_start in self.done:
                self.waiting.remove(job)
                return job
        return None

    def finished(self, run_dir: Path) -> None:
        self.done.add(run_dir.resolve())


def _train_all(todo: list[tuple[Config, Path]], base: Config, jobs: int, oracle: bool, progress: bool) -> None:
    """Trains (or resumes) every run of `todo`, `jobs` at a time. `todo` lists each seed's
    pretraining before the runs that start from it; one at a time they train in that order,
    several at a time in RunQueue's."""
    tic = time.perf_counter()
    if jobs == 1:
        for k, (cfg, run_dir) in enumerate(todo, 1):
            resuming = (run_dir / "checkpoints" / "last.pt").exists()
            print(f"[{k}/{len(todo)}] {cfg.variant().method}, seed {cfg.train.seed}: "
                  f"{'resuming from its last checkpoint' if resuming else 'training'}", flush=True)
            train_or_resume(to_dict(cfg), str(run_dir), progress)
            if oracle and not cfg.variant().pretraining:
                add_oracle(run_dir)
    elif todo:
        prepare_data(base, progress)
        print(f"{len(todo)} run(s), {jobs} at a time with {base.train.threads} thread(s) each", flush=True)
        queue, running = RunQueue(todo), {}
        # No more runs handed to the pool than it has workers: it would queue the rest in
        # submission order, and a run whose pretraining ends later could not move ahead.
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"))
        try:
            for k in range(1, len(todo) + 1):
                while len(running) < jobs and (job := queue.next()) is not None:
                    running[pool.submit(train_or_resume, to_dict(job[0]), str(job[1]), False)] = job
                future = next(iter(wait(running, return_when=FIRST_COMPLETED).done))
                cfg, run_dir = running.pop(future)
                how = future.result()
                queue.finished(run_dir)
                print(f"[{k}/{len(todo)}] {cfg.variant().method}, seed {cfg.train.seed}: {how}, "
                      f"{(time.perf_counter() - tic) / 60:.1f} min since the start", flush=True)
                if oracle and not cfg.variant().pretraining:
                    add_oracle(run_dir)
        except (Interrupted, KeyboardInterrupt):
            # Ctrl-C reaches the workers too: each saves a checkpoint before it stops.
            pool.shutdown(wait=True, cancel_futures=True)
            raise Interrupted("interrupted: the runs in progress saved a checkpoint; continue with the same "
                              "`spigan ablate` command") from None
        finally:
            pool.shutdown(cancel_futures=True)


@contextlib.contextmanager
def folder_lock(out: Path):
    """Holds OUT/.ablate.lock while an ablation writes OUT: a second `spigan ablate` (or
    benchmark) on the same folder stops with one line instead of training the same runs
    twice beside the first. An OS lock (flock), released however the process ends, so none
    is left behind by a killed run; where the OS has no flock (Windows), no lock is taken."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    out.mkdir(parents=True, exist_ok=True)
    path = out / ".ablate.lock"
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            raise SpiganError(f"{out}: another ablation is writing this folder (process {holder}); wait for it, "
                              f"or stop it and run again to resume") from None
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def ablate(config: str | Path, seeds: int, out: str | Path, overrides: list[str] | None = None,
           oracle: bool = False, methods: tuple[str, ...] = ABLATION, progress: bool = True, jobs: int = 1,
           warm_start: int = 0) -> dict:
    """Trains every (seed, method) run not finished yet, `jobs` at a time, then reports.

    With `jobs` > 1 each run gets a fixed share of the CPUs (train.threads = CPUs / jobs):
    on a small CPU, two single-threaded runs side by side do more work per second than
    one run on both cores (docs/PERFORMANCE.md).
    `warm_start` N > 0: first, per seed, a pretraining of N iterations (OUT/pretrain-sSEED),
    from which every run of that seed starts (train.init_from); 0: none, networks as built."""
    if seeds < 1:
        raise SpiganError(f"--seeds: must be at least 1, got {seeds}")
    if jobs < 1:
        raise SpiganError(f"--jobs: must be at least 1, got {jobs}")
    if warm_start < 0:
        raise SpiganError(f"--warm-start: must be at least 0 (0: no warm start), got {warm_start}")
    base = load_config(config, overrides)
    if warm_start and base.train.init_from:
        raise SpiganError(f"--warm-start: train.init_from is set already ({base.train.init_from}); a warm start "
                          f"starts each run from its seed's pretraining")
    if oracle:
        base = dataclasses.replace(base, train=dataclasses.replace(base.train, keep_checkpoints=10_000))
    if jobs > 1 and base.train.threads == 0:
        base = dataclasses.replace(base, train=dataclasses.replace(base.train, threads=max(1, usable_cpus() // jobs)))
    out = Path(out)
    methods = tuple(m for m in ABLATION if m in methods)  # Table 2's order, whatever order they came in
    plan = [(seed, method) for seed in range(seeds) for method in methods]
    # An absolute path in each run's config, so a re-run from another folder still matches.
    warm = {seed: out.resolve() / f"{PRETRAIN}-s{seed}" for seed in range(seeds)} if warm_start else {}
    pretrainings = [(pretrain_config(base, seed, warm_start), out / f"{PRETRAIN}-s{seed}") for seed in warm]
    runs = [(run_config(base, method, seed, str(warm.get(seed, ""))), out / f"{method}-s{seed}")
            for seed, method in plan]
    with folder_lock(out):
        pretrainings = [job for job in pretrainings if _to_train(*job)]  # every folder checked before any training
        runs = [job for job in runs if _to_train(*job)]
        _train_all(pretrainings + runs, base, jobs, oracle, progress)
        finished = load_runs([out / f"{m}-s{s}" for s, m in plan])
        tables = write_report(finished, out, oracle=oracle)
    print((out / "report.md").read_text())
    return tables
