"""`spigan export`: the task network T of a checkpoint as a file that runs without this
package: TorchScript (traced; `torch.jit.load` needs only PyTorch, which deprecates it in
favour of torch.export), a torch.export program (`pt2`: `torch.export.load(f).module()`),
or ONNX (needs the onnx package to write; any ONNX runtime to run).

The exported model takes (N, 3, H, W) float32 RGB scaled to [-1, 1] (the images of
`spigan.data.transforms.network_input`: resized to the training size, `rgb / 127.5 - 1`)
and returns (N, C, H, W) class scores; `scores.argmax(1)` are the labels, indices into
the class list stored beside the model. ImageNet normalisation is inside the model.
TorchScript and pt2 files carry `spigan.json` (classes, palette, input size and convention)
as an extra file; ONNX files the same JSON in their metadata (`spigan`). pt2 and ONNX
accept any batch size; TorchScript any batch and, for this network, any size.
"""

from __future__ import annotations

import io as _io
import json
import warnings
from pathlib import Path

import torch

from spigan.atomic import write_atomically
from spigan.checkpoint import (
    checkpoint_config,
    load_checkpoint,
    network_from_checkpoint,
)
from spigan.errors import SpiganError
from spigan.ontology import ONTOLOGIES

FORMATS = ("torchscript", "pt2", "onnx")
INPUT = "(N, 3, H, W) float32 RGB in [-1, 1] (rgb / 127.5 - 1), resized to the training size; ImageNet " \
        "normalisation is inside"


def metadata(state: dict) -> dict:
    """What a deployment needs to know besides the weights."""
    cfg = checkpoint_config(state)
    return {"format": "spigan-export-1", "network": "task (T, FCN-8s)", "classes": list(state["classes"]),
            "palette": [list(c) for c in ONTOLOGIES[cfg.data.ontology][1]], "ontology": cfg.data.ontology,
            "input_size_hw": list(cfg.data.size), "input": INPUT, "output": "(N, C, H, W) class scores; argmax(1) "
            "gives the labels", "iteration": int(state["iteration"]), "config_name": cfg.name}


def onnx_available() -> bool:
    try:
        import onnx  # noqa: F401
    except ImportError:
        return False
    return True


def export_task_network(checkpoint: str | Path, out: str | Path, fmt: str = "torchscript") -> Path:
    """Writes T of `checkpoint` to `out` (atomically) in `fmt`; returns the path."""
    if fmt not in FORMATS:
        raise SpiganError(f"--format {fmt}: not one of {', '.join(FORMATS)}")
    if fmt == "onnx" and not onnx_available():
        raise SpiganError("--format onnx: needs the onnx package (pip install 'spigan[onnx]', or pip install onnx)")
    state = load_checkpoint(checkpoint)
    cfg = checkpoint_config(state)
    net = network_from_checkpoint(state, "task", "cpu", cfg)
    example = torch.zeros(1, 3, *cfg.data.size)  # (1, 3, H, W)
    meta = metadata(state)
    if fmt == "torchscript":
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.10+ points to torch.export (our pt2)
            traced = torch.jit.trace(net, example, check_trace=False)
            write_atomically(out, lambda f: torch.jit.save(traced, f, _extra_files={"spigan.json": json.dumps(meta)}))
    elif fmt == "pt2":
        example = torch.zeros(2, 3, *cfg.data.size)  # a batch of 2: a batch of 1 would fix the size at 1
        program = torch.export.export(net, (example,), dynamic_shapes=({0: torch.export.Dim("batch")},))
        write_atomically(out, lambda f: torch.export.save(program, f, extra_files={"spigan.json": json.dumps(meta)}))
    else:
        write_atomically(out, lambda f: f.write(_onnx_bytes(net, example, meta)))
    return Path(out)


def _onnx_bytes(net: torch.nn.Module, example: torch.Tensor, meta: dict) -> bytes:
    """The TorchScript-based exporter (needs the onnx package only), with a dynamic batch."""
    import onnx

    buffer = _io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter announces its successor, on every call
        torch.onnx.export(net, (example,), buffer, dynamo=False, input_names=["image"], output_names=["scores"],
                          dynamic_axes={"image": {0: "batch"}, "scores": {0: "batch"}}, opset_version=17)
    model = onnx.load_from_string(buffer.getvalue())
    entry = model.metadata_props.add()
    entry.key, entry.value = "spigan", json.dumps(meta)
    return model.SerializeToString()


def load_exported(path: str | Path) -> tuple[torch.nn.Module, dict]:
    """An exported TorchScript or pt2 file as a module, and its metadata."""
    extra = {"spigan.json": ""}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    except RuntimeError:  # not TorchScript: a torch.export program
        module = torch.export.load(str(path), extra_files=extra).module()
    return module, json.loads(extra["spigan.json"])
