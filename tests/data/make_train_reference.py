"""Makes tests/data/train_reference.json and the frames it is trained on, for
tests/test_train.py::test_same_numbers_as_stored.

    .venv/bin/python tests/data/make_train_reference.py            # frames (if absent) and numbers

The frames are the tiny configuration's simulator frames written once as files
(reference_frames/: SYNTHIA for the source, Cityscapes for the target), so that the
reference depends on no renderer arithmetic: PNGs read the same bytes on every CPU. The
runs are in float64 (train.precision=fp64), where kernels of different instruction sets
(AVX2, AVX512, AMX; oneDNN, MKL) agree far below the test's tolerance; in float32 they
differ in the last bits, which four iterations of Adam amplify to 1e-4 (issue 21).
Remake the numbers only for a change that is meant to change what training computes, and
say so in its commit."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
FRAMES = HERE / "reference_frames"
sys.path.insert(0, str(HERE.parent))

from conftest import TINY  # noqa: E402
from spigan.data.export import export  # noqa: E402

METHODS = ("spigan", "no_pi", "source_only", "target_only")
# The tiny configuration on the files, in float64, with the depth target it was made with.
OVERRIDES = [*TINY, "train.precision=fp64", "train.iterations=4", "loss.depth_target=log",
             "data.source=synthia", f"data.source_root={FRAMES / 'synthia'}",
             "data.target=cityscapes", f"data.target_root={FRAMES / 'cityscapes'}"]


def fingerprint(tensor) -> list[float]:
    v = tensor.double()
    return [float(v.sum()), float(v.abs().sum()), float(v.square().sum())]


def write_frames() -> None:
    export("sim", 4, 32, 64, FRAMES / "synthia", progress=False)
    export("photo", 4, 32, 64, FRAMES / "cityscapes", split="train", progress=False)
    export("photo", 3, 32, 64, FRAMES / "cityscapes", split="val", progress=False)
    for preview in (FRAMES / "synthia" / "GT" / "COLOR").glob("*.png"):  # for people, not read
        preview.unlink()
    (FRAMES / "synthia" / "GT" / "COLOR").rmdir()


def main() -> None:
    from spigan.checkpoint import load_checkpoint
    from spigan.config import load_config
    from spigan.train import train

    write_frames()
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for method in METHODS:
            run = Path(tmp) / method
            train(load_config(None, [*OVERRIDES, f"train.method={method}"]), run, progress=False)
            rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
            state = load_checkpoint(run / "checkpoints" / "last.pt")
            runs[method] = {
                "losses": [{k: v for k, v in r.items() if not k.startswith(("time", "generator_gradient"))}
                           for r in rows],
                "params": {f"{net}.{k}": fingerprint(v) for net, sd in state["networks"].items()
                           for k, v in sd.items()}}
    reference = {"made_on": "see git log of this file; float64 on the files in reference_frames/",
                 "overrides": [o for o in OVERRIDES if "_root=" not in o], "runs": runs}
    (HERE / "train_reference.json").write_text(json.dumps(reference, indent=1) + "\n")


if __name__ == "__main__":
    main()
