"""The tools of docs/GPU.md: the FLOP and memory count of benchmarks/paper_cost.py, the
smaller CamVid copy of benchmarks/camvid_small.py, and the Makefile's choice of torch build."""

import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from spigan.data import io
from spigan.data.real import real_frames
from spigan.errors import SpiganError
from conftest import load_benchmark

ROOT = Path(__file__).resolve().parents[1]


def test_the_meta_device_count_equals_the_flops_of_a_real_iteration(tiny_config):
    """paper_cost counts the paper's networks from shapes alone; at tiny size the same
    count, taken while the real step computes real numbers, must agree."""
    from spigan.build import build_networks, build_optimizers
    from spigan.objective import adaptation_step, discriminator_step

    cfg = tiny_config("train.generator_steps=3")
    counted = load_benchmark("paper_cost").count(cfg)
    nets = build_networks(cfg, torch.device("cpu"))
    optimizers = build_optimizers(nets, cfg)
    (h, w), b = cfg.data.crop, cfg.train.batch_size
    x = torch.rand(b, 3, h, w) * 2 - 1
    y = torch.randint(0, 16, (b, h, w))
    z = {"depth": torch.rand(b, 1, h, w) * 80 + 1}
    with FlopCounterMode(display=False) as counter:
        discriminator_step(nets.generator, nets.discriminator, optimizers["discriminator"], x, x)
        for k in range(cfg.train.generator_steps):
            adaptation_step(nets, optimizers, cfg.variant().weights, x, y, z, update_task_and_privileged=k == 0)
    assert counted["flops_per_iteration"] == counter.get_total_flops() > 0
    trained = {name: sum(p.numel() for p in net.parameters()) for name, net in nets.trainable().items()}
    assert {k: v for k, v in counted["parameters"].items() if "frozen" not in k} == trained
    assert counted["checkpoint_bytes"] == 12 * sum(trained.values())  # float32 weights and Adam's two moments
    assert counted["saved_for_backward_bytes"] > 0


def test_paper_cost_counts_a_method_without_g(tiny_config):
    counted = load_benchmark("paper_cost").count(tiny_config("train.method=source_only"))
    assert list(counted["flops_by_step"]) == ["supervised step (T)"] and counted["flops_per_iteration"] > 0
    assert list(counted["parameters"]) == ["task"]


def write_camvid(root: Path, split: str, count: int, size=(36, 48)) -> list[np.ndarray]:
    rng = np.random.default_rng(len(split) + count)
    labels = []
    for k in range(count):
        io.write_png_atomic(root / split / f"f{k:03d}.png", rng.integers(0, 256, (*size, 3), dtype=np.uint8))
        label = rng.integers(0, 12, size, dtype=np.uint8)
        io.write_png_atomic(root / f"{split}annot" / f"f{k:03d}.png", label)
        labels.append(label)
    return labels


def test_camvid_small_writes_a_smaller_copy_the_camvid_loader_reads(tmp_path):
    shrink = load_benchmark("camvid_small").shrink
    labels = write_camvid(tmp_path / "camvid", "train", 5)
    write_camvid(tmp_path / "camvid", "val", 3)
    done = shrink(tmp_path / "camvid", tmp_path / "small", scale=0.5, frames=3)
    assert done["frames"] == {"train": 3, "val": 3}
    assert sorted(p.name for p in (tmp_path / "small" / "train").iterdir()) == ["f000.png", "f002.png", "f004.png"]
    assert done["bytes"] == sum(p.stat().st_size for p in (tmp_path / "small").rglob("*.png"))
    frames = real_frames("camvid", tmp_path / "small", "train", "camvid-11", size=None)
    assert frames[1]["image"].shape == (18, 24, 3)
    # Labels resized with nearest neighbour: every value is one of the frame's own ids, in place.
    expected = cv2.resize(labels[2], (24, 18), interpolation=cv2.INTER_NEAREST)
    assert np.array_equal(io.read_index_png(tmp_path / "small" / "trainannot" / "f002.png"), expected)
    assert len(real_frames("camvid", tmp_path / "small", "val", "camvid-11", size=None)) == 3


def test_camvid_small_refuses_a_copy_over_its_size_limit_and_a_wrong_layout(tmp_path):
    shrink = load_benchmark("camvid_small").shrink
    write_camvid(tmp_path / "camvid", "train", 2)
    write_camvid(tmp_path / "camvid", "val", 2)
    with pytest.raises(SpiganError, match="over --max-mib 0.001"):
        shrink(tmp_path / "camvid", tmp_path / "small", scale=1.0, max_mib=0.001)
    with pytest.raises(SpiganError, match="no \\*.png images"):
        shrink(tmp_path, tmp_path / "other")


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_installs_the_cpu_build_unless_told_otherwise():
    """The Makefile said "a CPU build" but asked PyPI, whose Linux torch is a CUDA build."""
    def torch_lines(*args: str) -> list[str]:
        out = subprocess.run(["make", "-n", "-B", "install", *args], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
        return [line for line in out.splitlines() if '"torch==' in line]

    assert torch_lines()[0].endswith('--extra-index-url "https://download.pytorch.org/whl/cpu"')
    assert "--no-deps" in torch_lines()[0]  # only torch is looked up on that index
    cuda = torch_lines("TORCH_INDEX=https://download.pytorch.org/whl/cu126")
    assert cuda[0].endswith('--extra-index-url "https://download.pytorch.org/whl/cu126"')
    assert all("--extra-index-url" not in line for line in torch_lines("TORCH_INDEX="))
