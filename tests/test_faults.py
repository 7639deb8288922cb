"""Faults: SIGKILL at random moments, a full disk while checkpointing, NaN losses."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

from spigan import train as train_module
from spigan.errors import SpiganError
from spigan.train import load_checkpoint, train
from test_train import TINY, tiny_config

KILL_ARGS = TINY + ["train.iterations=24", "train.checkpoint_every=1", "train.log_every=2", "train.threads=1",
                    "train.keep_checkpoints=3"]


def spigan(args, cwd):
    return subprocess.Popen([sys.executable, "-m", "spigan.cli", "train"] + args, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})


def checkpoint_iteration(run):
    try:
        return load_checkpoint(run / "checkpoints" / "last.pt")["iteration"]
    except Exception:
        return 0


def test_sigkill_at_random_moments_then_resume_equals_uninterrupted(tmp_path):
    (tmp_path / "tiny.yaml").write_text("name: tiny\n")
    cache = [f"data.cache_dir={tmp_path / 'cache'}"]
    straight = spigan(["tiny.yaml", "--out", "straight", "--quiet"] + KILL_ARGS + cache, tmp_path)
    assert straight.wait(timeout=600) == 0, straight.stderr.read()

    rng = random.Random(7)
    first = spigan(["tiny.yaml", "--out", "killed", "--quiet"] + KILL_ARGS + cache, tmp_path)
    procs, kills = first, 0
    run = tmp_path / "killed"
    while kills < 3:
        start = checkpoint_iteration(run)
        deadline = time.time() + 300
        while checkpoint_iteration(run) <= start and procs.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        if procs.poll() is not None:
            break  # finished before we could kill it again
        time.sleep(rng.uniform(0.0, 0.6))  # anywhere: mid-step, mid-log, mid-checkpoint-write
        procs.send_signal(signal.SIGKILL)
        procs.wait()
        kills += 1
        for path in (run / "checkpoints").glob("*.pt"):  # whatever the moment, every checkpoint loads
            load_checkpoint(path)
        procs = spigan(["--resume", str(run), "--quiet"], tmp_path)
    assert procs.wait(timeout=600) == 0, procs.stderr.read()
    assert kills >= 2

    a = load_checkpoint(tmp_path / "straight" / "checkpoints" / "last.pt")
    b = load_checkpoint(run / "checkpoints" / "last.pt")
    assert a["iteration"] == b["iteration"] == 24
    for name in a["networks"]:
        for key, value in a["networks"][name].items():
            assert torch.equal(value, b["networks"][name][key]), f"{name}.{key}"
    rows = lambda p: [{k: v for k, v in json.loads(x).items() if not k.startswith("time")}  # noqa: E731
                      for x in (p / "metrics.jsonl").read_text().splitlines()]
    assert rows(run) == rows(tmp_path / "straight")
    assert len(list((run / "checkpoints").glob("iter_*.pt"))) == 3  # the last K are kept
    assert not list((run / "checkpoints").glob(".*.tmp"))


def test_full_disk_while_checkpointing_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    cfg = tiny_config(tmp_path, "train.iterations=4", "train.checkpoint_every=2")
    real_save = torch.save
    calls = {"n": 0}

    def full_disk(obj, f, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the second checkpoint: half written, then the disk is full
            f.write(b"\0" * 1000)
            raise OSError(28, "No space left on device")
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(train_module.torch, "save", full_disk)
    with pytest.raises(SpiganError, match="last.pt: cannot write checkpoint \\(No space left on device\\); "
                                          "the previous one is intact"):
        train(cfg, tmp_path / "run", progress=False)
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["iteration"] == 2
    assert not list((tmp_path / "run" / "checkpoints").glob(".*.tmp"))


def _poison(monkeypatch, at_call: int):
    real = train_module.run_iteration
    calls = {"n": 0}

    def poisoned(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == at_call:  # corrupt one network's weights: the next losses are NaN
            nets = args[1]
            with torch.no_grad():
                next(nets.task.parameters()).fill_(float("nan"))
        return real(*args, **kwargs)

    monkeypatch.setattr(train_module, "run_iteration", poisoned)


def test_nan_loss_stops_naming_term_and_iteration_without_saving(tmp_path, monkeypatch):
    cfg = tiny_config(tmp_path, "train.method=source_only", "train.iterations=6", "train.checkpoint_every=2",
                      "train.log_every=3")
    _poison(monkeypatch, 4)
    with pytest.raises(SpiganError, match="non-finite task_source loss \\(nan\\) at iteration 4"):
        train(cfg, tmp_path / "run", progress=False)
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert state["iteration"] == 2  # the good checkpoint, not overwritten at 4
    assert all(torch.isfinite(v).all() for v in state["networks"]["task"].values())


def test_nan_loss_skip_mode_skips_the_update(tmp_path, monkeypatch):
    cfg = tiny_config(tmp_path, "train.method=source_only", "train.iterations=4", "train.nonfinite=skip",
                      "train.log_every=4")
    _poison(monkeypatch, 3)
    train(cfg, tmp_path / "run", progress=False)
    row = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    assert row["skipped"] == 2.0  # iterations 3 and 4: the poisoned weights stay, both updates skipped
