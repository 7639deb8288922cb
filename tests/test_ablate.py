"""The ablation: resumability, parallel runs, the report and figures it writes, and the
warm start (a pretraining per seed that every run starts from)."""

import json
import os
import re
import shutil
import signal
from pathlib import Path

import cv2
import pytest
import yaml

from spigan import ablate as ablate_module
from spigan import train as train_module
from spigan.ablate import RunQueue, ablate, pretrain_config, run_config
from spigan.checkpoint import load_checkpoint
from spigan.cli import main
from spigan.config import load_config, to_dict
from spigan.errors import Interrupted, SpiganError
from spigan.hardware import usable_cpus
from conftest import load_benchmark


@pytest.mark.slow
def test_killed_ablation_continues_without_redoing_finished_runs(tmp_path, monkeypatch, tiny):
    config = tmp_path / "tiny.yaml"
    config.write_text("name: tiny\n")
    overrides = tiny("train.iterations=2", "train.checkpoint_every=1", "train.log_every=1", "data.val_frames=4")[1]
    real = train_module.run_iteration
    calls = {"n": 0}

    def interrupting(*args, **kwargs):  # SIGINT during the 2nd iteration of the 3rd run (no_pi)
        calls["n"] += 1
        if calls["n"] == 6:
            os.kill(os.getpid(), signal.SIGINT)
        return real(*args, **kwargs)

    monkeypatch.setattr(train_module, "run_iteration", interrupting)
    with pytest.raises(Interrupted):
        ablate(config, 1, tmp_path / "abl", overrides, progress=False)
    assert (tmp_path / "abl" / "source_only-s0" / "results.json").exists()
    assert (tmp_path / "abl" / "base-s0" / "results.json").exists()
    assert not (tmp_path / "abl" / "no_pi-s0" / "results.json").exists()
    assert (tmp_path / "abl" / "no_pi-s0" / "checkpoints" / "last.pt").exists()
    finished = {m: (tmp_path / "abl" / f"{m}-s0" / "results.json").stat().st_mtime_ns for m in ("source_only", "base")}

    monkeypatch.setattr(train_module, "run_iteration", real)
    resumed = []
    real_resume = ablate_module.resume_run
    monkeypatch.setattr(ablate_module, "resume_run",
                        lambda d, p=True, **kw: resumed.append(d.name) or real_resume(d, p, **kw))
    tables = ablate(config, 1, tmp_path / "abl", overrides, progress=False)
    assert resumed == ["no_pi-s0"]
    for m, stamp in finished.items():
        assert (tmp_path / "abl" / f"{m}-s0" / "results.json").stat().st_mtime_ns == stamp  # not redone
    assert set(tables["default"]["methods"]) == {"source_only", "base", "no_pi", "spigan", "target_only"}
    for name in ("report.md", "report.csv", "report.json"):
        assert (tmp_path / "abl" / name).stat().st_size > 200
    figures = {os.path.basename(k): v for k, v in tables["figures"].items()}
    assert figures["segmentation.png"] == (4, 5)  # photo, source_only, no_pi, spigan, ground truth
    assert figures["adaptation.png"] == (4, 3)  # source frame, no_pi, spigan
    assert {"losses_spigan.png", "losses_no_pi.png", "losses_base.png"} <= set(figures)
    for name in figures:
        image = cv2.imread(str(tmp_path / "abl" / "figures" / name))
        assert image.shape[0] > 200 and image.shape[1] > 400 and image.std() > 20

    # --methods reports a subset, reusing the finished runs
    assert main(["ablate", str(config), *overrides, "--seeds", "1", "--out", str(tmp_path / "abl"), "--quiet",
                 "--methods", "spigan", "source_only"]) == 0
    report = json.loads((tmp_path / "abl" / "report.json").read_text())
    assert set(report["default"]["methods"]) == {"source_only", "spigan"}


def test_out_folder_of_another_configuration_is_refused(tmp_path, tiny):
    config = tmp_path / "tiny.yaml"
    config.write_text("name: tiny\n")
    overrides = tiny("train.iterations=1", "data.val_frames=2")[1]
    saved = to_dict(run_config(load_config(config, overrides), "source_only", 0))
    del saved["train"]["channels_last"]  # saved before that option existed: still the same configuration
    (tmp_path / "abl" / "source_only-s0").mkdir(parents=True)
    (tmp_path / "abl" / "source_only-s0" / "config.yaml").write_text(yaml.safe_dump(saved))
    ablate(config, 1, tmp_path / "abl", overrides, methods=("source_only",), progress=False)

    saved["train"]["lr"] = 0.5
    (tmp_path / "other" / "source_only-s0").mkdir(parents=True)
    (tmp_path / "other" / "source_only-s0" / "config.yaml").write_text(yaml.safe_dump(saved))
    with pytest.raises(SpiganError, match="another configuration"):
        ablate(config, 1, tmp_path / "other", overrides, methods=("source_only",), progress=False)


def test_parallel_runs_equal_sequential_ones(tmp_path, tiny):
    """--jobs 2 trains in two worker processes with one thread each (train.threads=0 gets
    the CPUs / jobs): the same losses and scores as one run after the other with one thread."""
    config = tmp_path / "tiny.yaml"
    config.write_text("name: tiny\n")
    overrides = tiny("train.iterations=2", "data.val_frames=2")[1]
    methods = ("source_only", "base")
    ablate(config, 1, tmp_path / "seq", overrides, methods=methods, progress=False)
    ablate(config, 1, tmp_path / "par", overrides + ["train.threads=0"], methods=methods, progress=False, jobs=2)
    for m in methods:
        seq, par = (json.loads((tmp_path / d / f"{m}-s0" / "results.json").read_text()) for d in ("seq", "par"))
        assert par["threads"]["setting"] == max(1, usable_cpus() // 2)
        assert par["checkpoints"]["last"]["miou"] == seq["checkpoints"]["last"]["miou"]
        rows = [(tmp_path / d / f"{m}-s0" / "metrics.jsonl").read_text().splitlines() for d in ("seq", "par")]
        strip = lambda line: {k: v for k, v in json.loads(line).items() if not k.startswith("time/")}  # noqa: E731
        assert [strip(r) for r in rows[0]] == [strip(r) for r in rows[1]]


def test_bad_ablation_counts_are_refused(tmp_path, tiny):
    with pytest.raises(SpiganError, match="--seeds"):
        ablate(tmp_path / "none.yaml", 0, tmp_path / "abl")
    with pytest.raises(SpiganError, match="--jobs"):
        ablate(tmp_path / "none.yaml", 1, tmp_path / "abl", jobs=0)
    with pytest.raises(SpiganError, match="^--warm-start: must be at least 0 \\(0: no warm start\\), got -1$"):
        ablate(tmp_path / "none.yaml", 1, tmp_path / "abl", warm_start=-1)
    config = tmp_path / "tiny.yaml"
    config.write_text("name: tiny\n")
    with pytest.raises(SpiganError, match="^--warm-start: train.init_from is set already \\(elsewhere\\)"):
        ablate(config, 1, tmp_path / "abl", tiny("train.init_from=elsewhere")[1], warm_start=5)
    assert not (tmp_path / "abl").exists()


def test_a_warm_start_pretrains_once_per_seed_and_every_run_starts_from_it(tmp_path, monkeypatch, tiny):
    """One pretraining (N iterations, seed 0) before the five runs, each of which takes what
    it has of T, P and φ from it and says so; a re-run trains nothing again, an interrupted
    pretraining is resumed, and another warm start (or none) in the same folder is refused."""
    config = tmp_path / "tiny.yaml"
    config.write_text("name: tiny\n")
    overrides = tiny("train.iterations=1", "data.val_frames=2")[1]
    out = tmp_path / "abl"
    trained, resumed = [], []
    real_train, real_resume = ablate_module.train, ablate_module.resume_run
    monkeypatch.setattr(ablate_module, "train",
                        lambda cfg, d, p=True: trained.append(Path(d).name) or real_train(cfg, d, p))
    monkeypatch.setattr(ablate_module, "resume_run", lambda d, p=True, **kw: resumed.append(d.name) or real_resume(d, p, **kw))

    ablate(config, 1, out, overrides, progress=False, warm_start=2)
    assert trained == ["pretrain-s0", "source_only-s0", "base-s0", "no_pi-s0", "spigan-s0", "target_only-s0"]
    pretraining = load_checkpoint(out / "pretrain-s0" / "checkpoints" / "last.pt")
    assert pretraining["iteration"] == 2 and set(pretraining["networks"]) >= {"task", "privileged", "perceptual"}
    assert (pretraining["config"]["train"]["method"], pretraining["config"]["train"]["seed"]) == ("pretrain", 0)
    checkpoint = str(out.resolve() / "pretrain-s0" / "checkpoints" / "last.pt")
    taken = {"source_only": ["task"], "base": ["task"], "no_pi": ["task", "perceptual"],
             "spigan": ["task", "privileged", "perceptual"], "target_only": ["task"]}
    for method, networks in taken.items():
        results = json.loads((out / f"{method}-s0" / "results.json").read_text())
        assert results["init_from"] == {"checkpoint": checkpoint, "iteration": 2, "networks": networks}, method
        assert results["iterations"] == 1
    report = (out / "report.md").read_text()
    assert "## Initial weights" in report
    assert "| spigan | 0 | pretrain-s0, iteration 2 | task, privileged, perceptual |" in report
    rows = json.loads((out / "report.json").read_text())["default"]["methods"]["no_pi"]["seeds"]
    assert rows[0]["init_from"]["networks"] == ["task", "perceptual"]

    stamp = (out / "pretrain-s0" / "checkpoints" / "last.pt").stat().st_mtime_ns
    trained.clear()
    ablate(config, 1, out, overrides, progress=False, warm_start=2)
    assert trained == [] and resumed == []
    assert (out / "pretrain-s0" / "checkpoints" / "last.pt").stat().st_mtime_ns == stamp

    (out / "pretrain-s0" / "results.json").unlink()  # as if killed after its last checkpoint
    ablate(config, 1, out, overrides, progress=False, warm_start=2)
    assert resumed == ["pretrain-s0"] and trained == []
    for other in (3, 0):
        with pytest.raises(SpiganError, match="holds a run of another configuration"):
            ablate(config, 1, out, overrides, progress=False, warm_start=other)

    # A pretraining never stops early: an ablation that differs only in its stopping rule reuses it.
    shutil.copytree(out / "pretrain-s0", tmp_path / "abl2" / "pretrain-s0")
    trained.clear(), resumed.clear()
    ablate(config, 1, tmp_path / "abl2", overrides + ["early_stopping.margin=0.3"], methods=("no_pi",),
           progress=False, warm_start=2)
    assert trained == ["no_pi-s0"] and resumed == []


def test_in_parallel_a_seeds_runs_start_when_its_own_pretraining_has_finished(tmp_path):
    """Two at a time, three seeds: the pretrainings first, then the longest run whose
    pretraining has finished, without waiting for the other seeds' pretrainings (a core
    would idle while the last one trains); a run whose warm start was trained before starts
    at once."""
    base = load_config(None, [])
    pretrainings = [(pretrain_config(base, s, 10), tmp_path / f"pretrain-s{s}") for s in range(3)]
    runs = [(run_config(base, m, s, str(tmp_path.resolve() / f"pretrain-s{s}")), tmp_path / f"{m}-s{s}")
            for s in range(3) for m in ("source_only", "no_pi", "spigan")]
    queue = RunQueue(pretrainings + runs)
    name = lambda job: job[1].name if job else None  # noqa: E731
    assert [name(queue.next()), name(queue.next()), name(queue.next())] == ["pretrain-s0", "pretrain-s1", "pretrain-s2"]
    assert queue.next() is None  # every run waits for its pretraining
    queue.finished(tmp_path / "pretrain-s1")
    assert [name(queue.next()), name(queue.next())] == ["spigan-s1", "no_pi-s1"]
    queue.finished(tmp_path / "pretrain-s0")
    assert name(queue.next()) == "spigan-s0"  # the longest ready run, before s1's shorter ones
    assert [name(queue.next()), name(queue.next()), name(queue.next())] == ["no_pi-s0", "source_only-s0", "source_only-s1"]
    assert queue.next() is None
    queue.finished(tmp_path / "pretrain-s2")
    assert [name(queue.next()) for _ in range(4)] == ["spigan-s2", "no_pi-s2", "source_only-s2", None]
    done_before = RunQueue(runs[:1])  # its pretraining finished in an earlier invocation: not in the queue
    assert name(done_before.next()) == "source_only-s0"


def test_a_parallel_warm_started_ablation_trains_each_run_from_its_seeds_pretraining(tmp_path, tiny):
    config = tmp_path / "tiny.yaml"
    config.write_text("name: tiny\n")
    overrides = tiny("train.iterations=1", "data.val_frames=2")[1]
    out = tmp_path / "abl"
    ablate(config, 2, out, overrides + ["train.threads=0"], methods=("source_only",), progress=False, jobs=2,
           warm_start=1)
    for seed in (0, 1):
        results = json.loads((out / f"source_only-s{seed}" / "results.json").read_text())
        assert results["init_from"]["checkpoint"] == str(out.resolve() / f"pretrain-s{seed}" / "checkpoints" / "last.pt")


def test_a_second_ablation_on_the_same_folder_is_refused(tmp_path, tiny):
    """Two ablations writing one folder would train the same runs twice, side by side: the
    second stops with one line naming the folder and the first's process, before any run."""
    config = tmp_path / "tiny.yaml"
    config.write_text("name: tiny\n")
    overrides = tiny("train.iterations=1", "data.val_frames=2")[1]
    with ablate_module.folder_lock(tmp_path / "abl"):  # the first ablation, still running
        with pytest.raises(SpiganError, match=f"^{re.escape(str(tmp_path / 'abl'))}: another ablation is writing this folder "
                                              f"\\(process {os.getpid()}\\)"):
            ablate(config, 1, tmp_path / "abl", overrides, methods=("source_only",), progress=False)
        assert not (tmp_path / "abl" / "source_only-s0").exists()
    ablate(config, 1, tmp_path / "abl", overrides, methods=("source_only",), progress=False)  # released
    assert (tmp_path / "abl" / "source_only-s0" / "results.json").exists()


def test_a_worker_starts_no_run_after_one_of_its_runs_was_interrupted(tmp_path, monkeypatch):
    """Ctrl-C reaches every worker; the pool has already handed each its next run, which the
    worker must not start (it would train it to the end while the ablation stops)."""
    started = []

    def interrupted(cfg, run_dir, progress):
        started.append(run_dir.name)
        raise Interrupted("interrupted at iteration 3: checkpoint saved")

    monkeypatch.setattr(ablate_module, "train", interrupted)
    monkeypatch.setattr(ablate_module, "_interrupted_worker", False)
    monkeypatch.setattr(ablate_module.multiprocessing, "parent_process", lambda: object())  # as in a worker
    cfg = to_dict(load_config(None, []))
    with pytest.raises(Interrupted, match="iteration 3"):
        ablate_module.train_or_resume(cfg, str(tmp_path / "first"), False)
    with pytest.raises(Interrupted, match="second: not started, an earlier run of this worker was interrupted"):
        ablate_module.train_or_resume(cfg, str(tmp_path / "second"), False)
    assert started == ["first"]


def test_the_schedule_replay_starts_a_seeds_runs_after_its_own_pretraining(tmp_path):
    """benchmarks/ablation_schedule.py on three 10 s pretrainings and three 30 s runs, two
    workers: RunQueue's order ends at 70 s (seed 0's run starts beside the last
    pretraining), the old order at 80 s (a core idles through the last pretraining)."""
    script = load_benchmark("ablation_schedule")
    base = load_config(None, [])
    jobs = [(pretrain_config(base, s, 10), tmp_path / f"pretrain-s{s}") for s in range(3)]
    jobs += [(run_config(base, "spigan", s, str(tmp_path.resolve() / f"pretrain-s{s}")), tmp_path / f"spigan-s{s}")
             for s in range(3)]
    seconds = {run_dir: 10.0 if "pretrain" in run_dir.name else 30.0 for _, run_dir in jobs}
    assert script.replay(jobs, seconds, 2, queue_order=True) * 60 == pytest.approx(70)
    assert script.replay(jobs, seconds, 2, queue_order=False) * 60 == pytest.approx(80)

    # One measured seed repeated to three replays like the three measured.
    seed_0 = [job for job in jobs if job[0].train.seed == 0]
    copied, copied_seconds = script.repeated(seed_0, {run_dir: seconds[run_dir] for _, run_dir in seed_0}, 3)
    assert sorted(run_dir.name for _, run_dir in copied) == sorted(run_dir.name for _, run_dir in jobs)
    assert {cfg.train.init_from for cfg, _ in copied if cfg.train.init_from} == \
        {str(tmp_path.resolve() / f"pretrain-s{s}") for s in range(3)}
    assert script.replay(copied, copied_seconds, 2, queue_order=True) * 60 == pytest.approx(70)
