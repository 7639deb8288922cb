"""What a finished run reports (its `results.json`), as a typed record: written by
training, read by the demo, the ablation and the report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from spigan.atomic import write_text_atomically
from spigan.config import Config, config_from_dict
from spigan.errors import SpiganError
from spigan.evaluate import Scores


@dataclass
class RunResult:
    """Attributes:
        protocol: the evaluation protocol of every score below.
        checkpoints: scores per checkpoint name (`early_stop`, `last`, and `oracle` when
            an ablation added it, chosen with target labels).
        default: the checkpoint reported by default: `early_stop` where the rule fired
            (chosen without target labels), else `last`.
        The rest describes the run: method, iterations, seconds of training, the
        early-stopping iteration, which VGGs started from ImageNet weights, which networks
        started from another checkpoint (`init_from`: {"checkpoint", "iteration",
        "networks"}, None when train.init_from is off), the number of processes, the
        precision and thread counts used.
    """

    protocol: str
    checkpoints: dict[str, Scores]
    default: str
    method: str | None = None
    iterations: int | None = None
    train_seconds: float | None = None
    early_stopping_iteration: int | None = None
    imagenet_weights: dict[str, bool] = field(default_factory=dict)
    world_size: int = 1
    precision: dict | None = None
    threads: dict | None = None
    eval_size: str | None = None  # where scores were computed (data.datasets.eval_size_name)
    init_from: dict | None = None
    scored_on: str | None = None  # the data scored, e.g. "sim/val (photo), 50 images" (data_name)

    def started_from(self) -> str | None:
        """Where the run's networks started, in a few words (the run folder and iteration of
        its `init_from` checkpoint, e.g. "pretrain-s0, iteration 500"); None: as built."""
        if not self.init_from:
            return None
        path = Path(self.init_from["checkpoint"])
        where = path.parent.parent.name if path.parent.name == "checkpoints" else path.name
        return f"{where}, iteration {self.init_from['iteration']}"

    def scores(self, which: str = "default") -> Scores:
        """`default`, or a checkpoint name (`last`, `early_stop`, `oracle`)."""
        return self.checkpoints[self.default if which == "default" else which]

    def to_dict(self) -> dict:
        return {"protocol": self.protocol, "checkpoints": {k: s.to_dict() for k, s in self.checkpoints.items()},
                "default": self.default, "method": self.method, "iterations": self.iterations,
                "train_seconds": self.train_seconds, "early_stopping_iteration": self.early_stopping_iteration,
                "imagenet_weights": self.imagenet_weights, "world_size": self.world_size,
                "precision": self.precision, "threads": self.threads, "eval_size": self.eval_size,
                "init_from": self.init_from, "scored_on": self.scored_on}

    @classmethod
    def from_dict(cls, d: dict) -> "RunResult":
        checkpoints = {k: Scores.from_dict(v, d["protocol"]) for k, v in d["checkpoints"].items()}
        extra = {k: d[k] for k in ("method", "iterations", "train_seconds", "early_stopping_iteration",
                                   "imagenet_weights", "world_size", "precision", "threads", "eval_size",
                                   "init_from", "scored_on") if k in d}
        return cls(protocol=d["protocol"], checkpoints=checkpoints, default=d["default"], **extra)

    def save(self, path: Path) -> None:
        write_text_atomically(path, json.dumps(self.to_dict(), indent=2))

    @classmethod
    def load(cls, path: Path) -> "RunResult":
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except OSError as e:
            raise SpiganError(f"{path}: cannot read run results ({e.strerror})") from e
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise SpiganError(f"{path}: not a spigan results.json ({type(e).__name__}: {e})") from e


@dataclass
class FinishedRun:
    """A run directory with its resolved config and its results."""

    path: Path
    cfg: Config
    result: RunResult

    @property
    def method(self) -> str:
        return self.cfg.variant().method

    @property
    def seed(self) -> int:
        return self.cfg.train.seed

    def default_checkpoint(self) -> Path:
        return self.path / "checkpoints" / f"{self.result.default}.pt"


def load_run(path: str | Path) -> FinishedRun:
    """A finished run directory (config.yaml and results.json)."""
    path = Path(path)
    results, config = path / "results.json", path / "config.yaml"
    if not results.exists() or not config.exists():
        raise SpiganError(f"{path}: not a finished run (needs config.yaml and results.json)")
    return FinishedRun(path, config_from_dict(yaml.safe_load(config.read_text())), RunResult.load(results))
