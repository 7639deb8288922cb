"""`spigan export`: the task network as TorchScript and ONNX, giving the checkpoint's labels."""

import json

import numpy as np
import pytest
import torch

from spigan.checkpoint import load_checkpoint, network_from_checkpoint
from spigan.cli import main
from spigan.data.transforms import network_input
from spigan.deploy import load_exported

# Compares computations with tolerances: also run under every kernel set (make test-kernels).
pytestmark = pytest.mark.numerics


def images(n: int = 3) -> torch.Tensor:
    rng = np.random.default_rng(0)
    return torch.cat([network_input(rng.integers(0, 256, (45, 80, 3), dtype=np.uint8), (32, 64)) for _ in range(n)])


def checkpoint_scores(path, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return network_from_checkpoint(load_checkpoint(path), "task")(x)


@pytest.mark.parametrize("fmt", ["torchscript", "pt2"])
def test_torchscript_and_pt2_exports_give_the_checkpoints_labels(finished_run, tmp_path, capsys, fmt):
    folder, _ = finished_run
    ckpt = folder / "spigan" / "checkpoints" / "last.pt"
    out = tmp_path / "deploy" / f"segmenter.{fmt}"
    assert main(["export", str(ckpt), "--format", fmt, "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out}")
    module, meta = load_exported(out)
    x = images()
    expected = checkpoint_scores(ckpt, x)
    with torch.no_grad():
        got = module(x)
    assert got.shape == expected.shape == (3, 16, 32, 64)
    assert torch.allclose(got, expected, atol=1e-5)
    assert torch.equal(got.argmax(1), expected.argmax(1))
    assert meta["classes"] == load_checkpoint(ckpt)["classes"] and meta["input_size_hw"] == [32, 64]
    assert len(meta["palette"]) == 16 and "[-1, 1]" in meta["input"]
    assert json.loads(json.dumps(meta)) == meta


def test_onnx_export_gives_the_checkpoints_labels(finished_run, tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    folder, _ = finished_run
    ckpt = folder / "source_only" / "checkpoints" / "last.pt"
    out = tmp_path / "segmenter.onnx"
    assert main(["export", str(ckpt), "--format", "onnx", "--out", str(out)]) == 0
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = images(2)
    (got,) = session.run(None, {"image": x.numpy()})  # a batch of 2, exported with a batch of 1
    expected = checkpoint_scores(ckpt, x)
    assert np.allclose(got, expected.numpy(), atol=1e-4)
    assert np.array_equal(got.argmax(1), expected.argmax(1).numpy())
    meta = json.loads(session.get_modelmeta().custom_metadata_map["spigan"])
    assert meta["classes"] == load_checkpoint(ckpt)["classes"]
