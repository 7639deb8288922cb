"""How far small real changes move the stored training reference (issue 21): each row trains
the reference's tiny float64 run with one setting changed by about 1e-6 of itself and prints
the largest relative change of its logged losses and of its parameter fingerprints. The test
(tests/test_train.py::test_same_numbers_as_stored) allows 1e-9, so each must exceed that.

    .venv/bin/python benchmarks/reference_mutations.py     # from the project root
"""

import json
import tempfile
from pathlib import Path

from spigan.checkpoint import load_checkpoint
from spigan.config import load_config
from spigan.train import train

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
MUTATIONS = [("spigan", "loss.perceptual=0.33000033"), ("spigan", "loss.task=0.5000005"),
             ("no_pi", "loss.adversarial=1.000001"), ("source_only", "train.lr=0.0002000002"),
             ("spigan", "train.beta2=0.9990001")]


def fingerprint(v) -> list[float]:
    v = v.double()
    return [float(v.sum()), float(v.abs().sum()), float(v.square().sum())]


def relative(got: float, want: float) -> float:
    return abs(got - want) / max(abs(want), 1e-12)


def main() -> None:
    ref = json.loads((DATA / "train_reference.json").read_text())
    frames = DATA / "reference_frames"
    for method, change in MUTATIONS:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = load_config(None, [*ref["overrides"], f"train.method={method}", change,
                                     f"data.source_root={frames / 'synthia'}",
                                     f"data.target_root={frames / 'cityscapes'}"])
            train(cfg, Path(tmp) / "r", progress=False)
            rows = [json.loads(line) for line in (Path(tmp) / "r" / "metrics.jsonl").read_text().splitlines()]
            want = ref["runs"][method]
            by_iteration = {r["iteration"]: r for r in rows}
            losses = max(relative(by_iteration[w["iteration"]][k], w[k]) for w in want["losses"] for k in w)
            state = load_checkpoint(Path(tmp) / "r" / "checkpoints" / "last.pt")
            params = max(relative(g, w) for net, sd in state["networks"].items() for k, v in sd.items()
                         for g, w in zip(fingerprint(v), want["params"][f"{net}.{k}"]))
            print(f"{method:12s} {change:28s} losses {losses:.1e}  parameters {params:.1e}", flush=True)


if __name__ == "__main__":
    main()
