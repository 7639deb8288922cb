"""The public Python API (spigan.load, Segmenter) on a finished tiny run, and the README's
example, executed as written."""

import os
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import spigan
from spigan.checkpoint import load_checkpoint, network_from_checkpoint
from spigan.data.transforms import network_input
from spigan.errors import SpiganError
from spigan.inference import segment_logits

README = Path(__file__).resolve().parents[1] / "README.md"


def photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def model(finished_run):
    folder, _ = finished_run
    return spigan.load(folder / "spigan" / "checkpoints" / "early_stop.pt", device="cpu", batch_size=2)


def test_segment_is_the_checkpoints_task_network_through_the_one_preprocessing_path(model, finished_run):
    folder, _ = finished_run
    state = load_checkpoint(folder / "spigan" / "checkpoints" / "early_stop.pt")
    task = network_from_checkpoint(state, "task")
    rgb = photo(40, 70)
    with torch.no_grad():
        expected = segment_logits(task(network_input(rgb, (32, 64))), (40, 70))[0].numpy()
    labels = model.segment(rgb)
    assert labels.shape == (40, 70) and labels.dtype == np.uint8
    assert np.array_equal(labels, expected)
    assert model.classes == tuple(state["classes"]) and len(model.palette) == len(model.classes)
    assert model.size == (32, 64) and model.has_depth and model.device == torch.device("cpu")


def test_batches_as_lists_and_arrays_answer_like_single_images(model):
    # A batch runs other kernels than one image: equal up to float rounding, which can flip
    # the argmax where a barely trained T has near-ties, so compare probabilities.
    a, b, c = photo(40, 70, 1), photo(24, 30, 2), photo(40, 70, 3)
    as_list = model.predict([a, b, c], confidence=True)  # 3 images, batch_size 2: two passes
    assert [x.labels.shape for x in as_list] == [(40, 70), (24, 30), (40, 70)]
    for single, batched in zip((a, b, c), as_list):
        alone = model.predict(single, confidence=True)
        assert np.allclose(alone.confidence, batched.confidence, atol=1e-6)
        assert (alone.labels == batched.labels).mean() > 0.99
    stacked = model.segment(np.stack([a, c]))
    assert stacked.shape == (2, 40, 70) and stacked.dtype == np.uint8
    assert isinstance(model.segment([a, c]), list)
    assert np.array_equal(model.segment(a[:, ::-1]), model.segment(np.ascontiguousarray(a[:, ::-1])))


def test_depth_confidence_entropy_and_probabilities(model):
    rgb = photo(36, 50)
    pred = model.predict(rgb, confidence=True)
    assert np.array_equal(pred.labels, model.segment(rgb))
    assert pred.depth.shape == (36, 50) and pred.depth.dtype == np.float32
    assert np.array_equal(pred.depth, model.depth(rgb))
    assert (pred.depth >= 1).all() and (pred.depth <= model.config.loss.max_depth * 1.0001).all()
    probs = model.probabilities(rgb)
    assert probs.shape == (len(model.classes), 36, 50)
    assert np.allclose(probs.sum(0), 1, atol=1e-5)
    assert np.allclose(pred.confidence, probs.max(0), atol=1e-5)
    entropy = -(probs * np.log(np.clip(probs, 1e-12, 1))).sum(0) / np.log(len(model.classes))
    assert np.allclose(pred.entropy, entropy, atol=1e-4)
    assert np.array_equal(model.confidence(rgb), pred.confidence)
    assert ((pred.entropy >= -1e-6) & (pred.entropy <= 1 + 1e-6)).all()


def test_overlay_and_colorize(model):
    rgb = photo(8, 12)
    labels = model.segment(rgb)
    assert np.array_equal(model.overlay(rgb, labels, alpha=0), rgb)
    assert np.array_equal(model.overlay(rgb, labels, alpha=1), model.colorize(labels))


def test_a_run_folder_loads_its_default_checkpoint_and_a_checkpoint_without_p_has_no_depth(finished_run):
    folder, _ = finished_run
    assert spigan.load(folder / "spigan", device="cpu").iteration == 1  # early_stop.pt, fired at iteration 1
    source_only = spigan.load(folder / "source_only", device="cpu")
    assert not source_only.has_depth and source_only.predict(photo(8, 8)).depth is None
    with pytest.raises(SpiganError, match="no privileged network P"):
        source_only.depth(photo(8, 8))


@pytest.mark.parametrize("bad, message", [
    (np.zeros((8, 8, 3), np.float32), "got float32"),
    (np.zeros((8, 8, 2), np.uint8), "got shape"),
    (np.zeros((2, 8, 8, 3, 1), np.uint8), "got shape"),
    (np.zeros((8, 8), np.uint16), "got uint16"),
    ("nowhere.png", "image not found"),
    (3, "got int"),
])
def test_bad_images_are_one_line_errors(model, bad, message):
    with pytest.raises(SpiganError, match=message):
        model.segment(bad)


def test_gray_and_rgba_arrays_and_files_are_segmented_as_their_rgb(model, tmp_path):
    """Issue 24.3: an (H, W) gray or (H, W, 4) RGBA uint8 array is an image (gray replicated,
    alpha dropped), and so are gray, RGBA and 16-bit files."""
    rgb = photo(20, 30)
    gray = rgb[..., 0]
    expected, expected_gray = model.segment(rgb), model.segment(np.dstack([gray] * 3))
    assert np.array_equal(model.segment(np.dstack([rgb, gray])), expected)
    assert np.array_equal(model.segment(gray), expected_gray)
    assert np.array_equal(model.segment(gray[..., None]), expected_gray)
    assert np.array_equal(model.segment(np.stack([np.dstack([rgb, gray])] * 2))[1], expected)  # (N, H, W, 4)
    cv2.imwrite(str(tmp_path / "rgba.png"), np.dstack([rgb[..., ::-1], gray]))
    cv2.imwrite(str(tmp_path / "deep.png"), rgb[..., ::-1].astype(np.uint16) * 257)
    cv2.imwrite(str(tmp_path / "gray.png"), gray)
    assert np.array_equal(model.segment(tmp_path / "rgba.png"), expected)
    assert np.array_equal(model.segment(str(tmp_path / "deep.png")), expected)
    assert np.array_equal(model.segment([tmp_path / "gray.png"])[0], expected_gray)
    assert model.overlay(gray, expected_gray).shape == (20, 30, 3)


def test_bad_device_is_refused(finished_run):
    folder, _ = finished_run
    with pytest.raises(SpiganError, match="device: 'tpu' is not auto, cpu, cuda or cuda:N"):
        spigan.load(folder / "spigan", device="tpu")


def test_import_spigan_does_not_import_torch():
    code = "import sys, spigan; assert 'torch' not in sys.modules; assert callable(spigan.load); print('ok')"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr


def test_loading_a_model_imports_no_simulator_objective_losses_or_opencv(finished_run):
    """A model that segments photos renders nothing and computes no loss: in a fresh
    interpreter, `import spigan.api`, `spigan.load` and segmenting an array of the training
    size load none of the simulator (spigan.sim*), the objective, the losses or OpenCV;
    OpenCV comes with the first image that needs resizing (or reading from a file)."""
    folder, _ = finished_run
    code = "\n".join([
        "import sys",
        "heavy_prefixes = ('spigan.sim', 'spigan.objective', 'spigan.losses')",
        "def heavy(): return sorted(m for m in sys.modules if m == 'cv2' or m.startswith(heavy_prefixes))",
        "import numpy as np, spigan.api",
        "print(heavy())",
        f"model = spigan.load({str(folder / 'spigan')!r}, device='cpu')",
        "assert model.segment(np.zeros((32, 64, 3), np.uint8)).shape == (32, 64)",
        "print(heavy())",
        "assert model.segment(np.zeros((40, 70, 3), np.uint8)).shape == (40, 70)",
        "print(heavy())",
    ])
    here = {**os.environ, "PYTHONPATH": str(Path(spigan.__file__).resolve().parents[1])}  # this checkout's package
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=here)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["[]", "[]", "['cv2']"]


def test_a_load_reads_the_checkpoints_config_once(finished_run, monkeypatch):
    import spigan.checkpoint

    calls = []
    parse = spigan.checkpoint.config_from_dict
    monkeypatch.setattr(spigan.checkpoint, "config_from_dict", lambda data: calls.append(1) or parse(data))
    model = spigan.load(finished_run[0] / "spigan", device="cpu")
    assert model.has_depth and len(calls) == 1


def test_the_readme_example_runs_as_written(finished_run, tmp_path, monkeypatch):
    folder, _ = finished_run
    text = README.read_text()
    section = text[text.index("## Python API"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    (tmp_path / "runs" / "demo").mkdir(parents=True)
    os.symlink(folder / "spigan", tmp_path / "runs" / "demo" / "spigan")
    cv2.imwrite(str(tmp_path / "street.png"), photo(40, 70))
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    assert (tmp_path / "street_overlay.png").exists()
