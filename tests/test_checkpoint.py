"""The checkpoint format: atomic writes under SIGKILL and a full disk, periodic copies,
and rebuilding networks from a checkpoint's own config."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

from spigan import checkpoint as checkpoint_module
from spigan.checkpoint import (
    checkpoint_config,
    load_checkpoint,
    network_from_checkpoint,
)
from spigan.errors import SpiganError
from spigan.train import train

KILL_ARGS = ["train.iterations=24", "train.checkpoint_every=1", "train.log_every=2", "train.keep_checkpoints=3"]


def spigan(args, cwd):
    return subprocess.Popen([sys.executable, "-m", "spigan.cli", "train"] + args, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})


def checkpoint_iteration(run):
    try:
        return load_checkpoint(run / "checkpoints" / "last.pt")["iteration"]
    except Exception:
        return 0


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_equals_uninterrupted(tmp_path, tiny):
    (tmp_path / "tiny.yaml").write_text("name: tiny\n")
    args = tiny(*KILL_ARGS)[1]
    straight = spigan(["tiny.yaml", "--out", "straight", "--quiet"] + args, tmp_path)
    assert straight.wait(timeout=600) == 0, straight.stderr.read()

    rng = random.Random(7)
    first = spigan(["tiny.yaml", "--out", "killed", "--quiet"] + args, tmp_path)
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


def test_full_disk_while_checkpointing_keeps_the_previous_checkpoint(tmp_path, monkeypatch, tiny_config):
    cfg = tiny_config("train.iterations=4", "train.checkpoint_every=2")
    real_save = torch.save
    calls = {"n": 0}

    def full_disk(obj, f, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the second checkpoint: half written, then the disk is full
            f.write(b"\0" * 1000)
            raise OSError(28, "No space left on device")
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(checkpoint_module.torch, "save", full_disk)
    with pytest.raises(SpiganError, match="last.pt: cannot write checkpoint \\(No space left on device\\); "
                                          "the previous one is intact"):
        train(cfg, tmp_path / "run", progress=False)
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["iteration"] == 2
    assert not list((tmp_path / "run" / "checkpoints").glob(".*.tmp"))


def test_networks_rebuild_from_the_checkpoints_own_config(finished_run):
    folder, _ = finished_run
    state = load_checkpoint(folder / "spigan" / "checkpoints" / "last.pt")
    cfg = checkpoint_config(state)
    assert cfg.model.generator_width == 4 and cfg.model.fcn_width == 8
    for which in ("task", "privileged", "generator", "discriminator"):
        net = network_from_checkpoint(state, which)
        assert not net.training and not any(p.requires_grad for p in net.parameters())
        for key, value in net.state_dict().items():
            assert torch.equal(value, state["networks"][which][key]), f"{which}.{key}"
    x = torch.zeros(1, 3, 32, 64)
    assert network_from_checkpoint(state, "task")(x).shape == (1, 16, 32, 64)
    assert network_from_checkpoint(state, "privileged")(x).shape == (1, 1, 32, 64)
    source_only = load_checkpoint(folder / "source_only" / "checkpoints" / "last.pt")
    assert network_from_checkpoint(source_only, "generator") is None


def test_a_checkpoint_whose_classes_differ_from_its_config_is_refused(finished_run):
    folder, _ = finished_run
    state = load_checkpoint(folder / "spigan" / "checkpoints" / "last.pt")
    state["classes"] = state["classes"][:-1]
    with pytest.raises(SpiganError, match="classes"):
        network_from_checkpoint(state, "task")
