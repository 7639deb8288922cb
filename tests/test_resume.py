"""Exact resume: interrupted (SIGINT) and resumed training equals an uninterrupted run."""

import json
import os
import signal

import pytest
import torch

from spigan import train as train_module
from spigan.train import Interrupted, load_checkpoint, resume_run, train
from test_train import tiny_config


def rows(run):
    return [{k: v for k, v in json.loads(line).items() if not k.startswith("time")}
            for line in (run / "metrics.jsonl").read_text().splitlines()]


def assert_same_networks(a, b):
    na, nb = load_checkpoint(a)["networks"], load_checkpoint(b)["networks"]
    assert na.keys() == nb.keys()
    for name in na:
        for key in na[name]:
            assert torch.equal(na[name][key], nb[name][key]), f"{name}.{key}"


@pytest.mark.parametrize("method", ["spigan", "source_only"])
def test_interrupted_and_resumed_equals_uninterrupted(tmp_path, monkeypatch, method):
    extra = [f"train.method={method}", "train.iterations=6", "train.log_every=2", "train.checkpoint_every=2",
             "early_stopping.warmup=1", "early_stopping.patience=1", "early_stopping.margin=-100"]
    train(tiny_config(tmp_path, *extra), tmp_path / "straight", progress=False)

    real = train_module.run_iteration
    calls = {"n": 0}

    def interrupting(*args, **kwargs):
        out = real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 3:  # mid-interval: iteration 3's losses are pending, not yet logged
            os.kill(os.getpid(), signal.SIGINT)
        return out

    monkeypatch.setattr(train_module, "run_iteration", interrupting)
    with pytest.raises(Interrupted, match="interrupted at iteration 3"):
        train(tiny_config(tmp_path, *extra), tmp_path / "resumed", progress=False)
    assert load_checkpoint(tmp_path / "resumed" / "checkpoints" / "last.pt")["iteration"] == 3
    monkeypatch.setattr(train_module, "run_iteration", real)
    resume_run(tmp_path / "resumed", progress=False)

    assert rows(tmp_path / "resumed") == rows(tmp_path / "straight")
    assert_same_networks(tmp_path / "straight" / "checkpoints" / "last.pt",
                         tmp_path / "resumed" / "checkpoints" / "last.pt")
    if method == "spigan":
        assert_same_networks(tmp_path / "straight" / "checkpoints" / "early_stop.pt",
                             tmp_path / "resumed" / "checkpoints" / "early_stop.pt")
