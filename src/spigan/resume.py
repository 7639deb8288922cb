"""What a resumed run may change (`spigan train --resume RUN key=value`, or an edited
RUN/config.yaml), and the config it continues with: the checkpoint's own, then the
edits, each change checked against `RESUME_SAFE`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spigan.config import Config, config_from_dict, load_config, merge, parse_overrides, to_dict
from spigan.errors import SpiganError

# Keys a resumed run may change (`spigan train --resume RUN key=value`, or an edited
# RUN/config.yaml): how long it trains, where the data and the cache live, the hardware,
# and how much is logged. Every other key would change what the checkpoint was trained as.
RESUME_SAFE = (
    "train.iterations", "data.source_root", "data.target_root", "data.cache_dir", "train.device", "train.threads",
    "train.precision", "train.log_every", "train.checkpoint_every", "train.keep_checkpoints", "data.workers",
    "train.image_every", "train.validate_every", "train.log_generator_gradients",
)


@dataclass(frozen=True)
class Change:
    """One key whose value a resumed run changes, and where the change came from."""

    key: str
    old: object
    new: object
    where: str

    def __str__(self) -> str:
        return f"{self.key}: {self.old!r} -> {self.new!r} ({self.where})"


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        out.update(_flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


def differences(old: Config, new: Config, where: str) -> list[Change]:
    """Every key whose value differs between two configs."""
    a, b = _flat(to_dict(old)), _flat(to_dict(new))
    return [Change(k, a[k], b[k], where) for k in a if a[k] != b[k]]


def _check_safe(changes: list[Change]) -> None:
    for c in changes:
        if c.key not in RESUME_SAFE:
            raise SpiganError(f"{c.key}: cannot be changed on --resume ({c.old!r} in the checkpoint, {c.new!r} in "
                              f"{c.where}): it changes what was trained; a resumed run may change only "
                              f"{', '.join(RESUME_SAFE)}")


def resumed_config(saved: dict, run_config: Path | None = None, overrides: list[str] | None = None
                   ) -> tuple[Config, list[Change]]:
    """The config a resumed run continues with: the checkpoint's own, then the run folder's
    config.yaml (which a user may have edited), then `key=value` overrides. Changes to keys
    outside RESUME_SAFE are refused naming the key, so an edit is honoured or refused, never
    ignored. Returns the config and what changed."""
    cfg = config_from_dict(saved)
    changes: list[Change] = []
    if run_config is not None and run_config.is_file():
        try:
            edited = load_config(run_config)
        except SpiganError as e:
            message = str(e)
            raise SpiganError(message if message.startswith(str(run_config)) else f"{run_config}: {message}") from e
        changes += differences(cfg, edited, str(run_config))
        _check_safe(changes)
        cfg = edited
    if overrides:
        updated = merge(cfg, parse_overrides(overrides)).validate()
        new = differences(cfg, updated, "command line")
        _check_safe(new)
        changes += new
        cfg = updated
    return cfg, changes
