"""The checkpoint format: one dict of tensors and plain containers, written atomically and
read without unpickling code, the one function that rebuilds a network from it, and the
one that starts a new run's networks from it (`train.init_from`).

A checkpoint ("spigan-checkpoint-1") holds the resolved config, the class names, the
iteration, every trained network and its optimiser, the early-stopping state, the position
of each data stream, the loss values not logged yet, and the RNG state: everything a
resumed run needs to continue exactly; and where its networks started (`init_from`).
φ, frozen, is built from `model.vgg19_weights` and left out, except where it is not what
that builds: in a pretraining, which trains it (with its head, `perceptual_head`), and in
a run that took it from one (`init_from`), so that resuming needs no other file.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch
from torch import nn

from spigan.atomic import copy_atomically, write_atomically
from spigan.build import build_network, class_names
from spigan.config import Config, config_from_dict, to_dict
from spigan.errors import SpiganError
from spigan.loss_config import pi_order
from spigan.networks import Networks

FORMAT = "spigan-checkpoint-1"


@dataclass
class RunState:
    """Everything that changes during training, and so goes into checkpoints. `stopper`
    and the data streams are anything with state_dict/load_state_dict."""

    nets: Networks
    optimizers: dict[str, torch.optim.Optimizer]
    stopper: object
    source_it: object
    target_it: object | None
    iteration: int = 0
    # Where the networks started (`init_weights_from`'s record; None: as built), kept so a
    # resumed run reports it without reading that checkpoint again.
    init_from: dict | None = None
    # Loss values since the last log line: name -> [(iteration, 0-d tensor)]; not synced.
    pending: dict[str, list[tuple[int, torch.Tensor]]] = field(default_factory=dict)

    def state_dict(self, cfg: Config) -> dict:
        return {
            "format": FORMAT,
            "config": to_dict(cfg),
            "classes": list(class_names(cfg)),
            "iteration": self.iteration,
            "init_from": self.init_from,
            "networks": {name: net.state_dict() for name, net in self.saved_networks().items()},
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "early_stopping": self.stopper.state_dict(),
            "data": {"source": self.source_it.state_dict(),
                     "target": self.target_it.state_dict() if self.target_it is not None else None},
            "pending": {k: {"iterations": torch.tensor([i for i, _ in v]), "values": torch.stack([x for _, x in v])}
                        for k, v in self.pending.items()},
            "rng": {"torch": torch.get_rng_state(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
        }

    def saved_networks(self) -> dict[str, nn.Module]:
        """The networks a checkpoint holds: every trained one, and a frozen φ that came from
        another checkpoint (a pretraining), which `model.vgg19_weights` would not rebuild."""
        taken = (self.init_from or {}).get("networks", ())
        return {name: net for name, net in self.nets.present().items()
                if name in self.nets.trainable() or name in taken}

    def load_state_dict(self, state: dict) -> None:
        self.init_from = state.get("init_from")  # absent from checkpoints older than the key
        for name, net in self.saved_networks().items():
            net.load_state_dict(state["networks"][name])
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        self.stopper.load_state_dict(state["early_stopping"])
        self.source_it.load_state_dict(state["data"]["source"])
        if self.target_it is not None:
            self.target_it.load_state_dict(state["data"]["target"])
        self.pending = {k: list(zip(v["iterations"].tolist(), v["values"].unbind()))
                        for k, v in state["pending"].items()}
        self.iteration = state["iteration"]
        torch.set_rng_state(state["rng"]["torch"])
        if state["rng"]["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])


def save_checkpoint(path: Path, state: dict) -> None:
    """torch.save, atomically: a crash, a full disk or a kill at any moment leaves the
    previous file intact."""
    try:
        write_atomically(path, lambda f: torch.save(state, f))
    except OSError as e:
        raise SpiganError(f"{path}: cannot write checkpoint ({e.strerror or e}); the previous one is intact") from e


def keep_periodic(folder: Path, iteration: int, keep: int) -> None:
    """Keeps a copy of last.pt as iter_NNNNNNN.pt and removes all but the newest `keep`."""
    if keep <= 0:
        return
    copy_atomically(folder / "last.pt", folder / f"iter_{iteration:07d}.pt")
    for old in sorted(folder.glob("iter_*.pt"))[:-keep]:
        old.unlink()


def remove_stale_temporaries(folder: Path) -> None:
    """Removes the temporaries of checkpoint writes that were killed."""
    for stale in folder.glob(".*.tmp"):
        os.unlink(stale)


def default_checkpoint(run_dir: Path) -> Path:
    """A run folder's default checkpoint: early_stop.pt where early stopping fired (chosen
    without target labels), else last.pt."""
    for name in ("early_stop.pt", "last.pt"):
        if (run_dir / "checkpoints" / name).is_file():
            return run_dir / "checkpoints" / name
    raise SpiganError(f"{run_dir}: no checkpoints/early_stop.pt or checkpoints/last.pt in this run folder")


def checkpoint_path(path: str | Path) -> Path:
    """`path`, or the default checkpoint of the run folder `path` (`default_checkpoint`)."""
    path = Path(path)
    if path.is_dir() and (path / "checkpoints").is_dir():
        return default_checkpoint(path)
    return path


def has_checkpoint(run_dir: Path) -> bool:
    """Whether a run folder holds any checkpoint: one that holds none (a run that failed
    or was killed before its first) can be trained again from the start."""
    return any((run_dir / "checkpoints").glob("*.pt"))


def last_checkpoint(run_dir: Path) -> dict:
    """A run's checkpoints/last.pt, to resume from; a folder whose run stopped before its
    first checkpoint is a one-line error saying how to start it again."""
    path = run_dir / "checkpoints" / "last.pt"
    if not path.exists() and (run_dir / "config.yaml").is_file() and not has_checkpoint(run_dir):
        raise SpiganError(f"{run_dir}: no checkpoint yet (the run stopped before its first): run the same "
                          f"`spigan train ... --out {run_dir}` again to start it afresh")
    return load_checkpoint(path)


def load_checkpoint(path: str | Path) -> dict:
    """Reads a checkpoint without unpickling code (tensors and plain containers only). A run
    folder stands for its default checkpoint (`default_checkpoint`)."""
    path = checkpoint_path(path)
    if path.is_dir():
        raise SpiganError(f"{path}: is a folder, not a checkpoint file (nor a run folder with checkpoints/)")
    if not path.is_file():
        raise SpiganError(f"{path}: checkpoint not found")
    with open(path, "rb") as f:
        head = f.read(4)
    if head[:4] != b"PK\x03\x04" and head[:1] != b"\x80":  # torch.save's zip archive, or a legacy pickle
        raise SpiganError(f"{path}: not a loadable checkpoint (not a PyTorch file: torch.save writes a zip archive)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise SpiganError(f"{path}: not a loadable checkpoint ({type(e).__name__}: {str(e).splitlines()[0]})") from e
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise SpiganError(f"{path}: not a spigan checkpoint")
    return state


def checkpoint_config(state: dict) -> Config:
    """The checkpoint's own config, checked against its class list."""
    cfg = config_from_dict(state["config"])
    if list(state["classes"]) != list(class_names(cfg)):
        raise SpiganError(f"checkpoint's classes {state['classes']} differ from its config's "
                          f"{cfg.data.ontology} classes")
    return cfg


def network_from_checkpoint(state: dict, which: str, device: torch.device | str = "cpu",
                            cfg: Config | None = None) -> nn.Module | None:
    """Rebuilds network `which` (task, privileged, generator, discriminator; perceptual and
    perceptual_head where a checkpoint has them, see the module's docstring) with the sizes
    of the checkpoint's own config and loads its weights; frozen, in eval mode. None if the
    checkpoint has no such network (e.g. P in a no_pi run). `cfg`: that config where the
    caller has read it already (`checkpoint_config(state)`), so it is not read again."""
    cfg = cfg if cfg is not None else checkpoint_config(state)
    if which not in state["networks"]:
        return None
    net = build_network(cfg, which, imagenet=False)  # weights: the checkpoint's
    try:
        net.load_state_dict(state["networks"][which])
    except RuntimeError as e:
        raise SpiganError(f"checkpoint's {which} network does not match its own config ({str(e).splitlines()[0]})") from e
    return net.to(device).eval().requires_grad_(False)


def _shape(t: torch.Tensor) -> str:
    return "(" + ", ".join(str(n) for n in t.shape) + ")"


def init_weights_from(nets: Networks, source: str | Path, classes: Sequence[str], only: str = "",
                      pi: Sequence[str] = ("depth",)) -> dict:
    """Starts `nets` from another run's weights (`train.init_from`): each network (T, P, G,
    D, φ and its head) that both `nets` and the checkpoint have, matched by name; the others
    stay as built. φ is in a checkpoint where a pretraining trained it (`pretrain`), or
    where a run took it from one; it stays frozen in a run that does not train it.
    Weights only: optimisers, data position, early stopping and iteration stay the new run's.

    Args:
        nets: this run's networks, as built.
        source: a checkpoint, or a run folder (its default checkpoint).
        classes: the classes this run's T predicts.
        only: `train.init_networks`: the networks to take, comma-separated ("" = every one
            both have); a name this run lacks is an error.
        pi: the kinds of privileged information this run's P learns (loss.pi).
    Returns:
        The record for results.json: {"checkpoint", "iteration" (the source's), "networks"}.
    Raises:
        SpiganError, one line, before any weight is changed: an unreadable source, one with
        none of these networks, a parameter missing on either side or of another shape
        (naming network, parameter and both shapes), T's classes differing, or P's kinds of
        privileged information (depth and boundaries have the same shapes).
    """
    try:
        path = checkpoint_path(source)
        state = load_checkpoint(path)
    except SpiganError as e:
        raise SpiganError(f"train.init_from: {e}") from e
    where = f"train.init_from: {path}"
    ours = nets.present()
    wanted = [name.strip() for name in only.split(",") if name.strip()]
    for name in wanted:
        if name not in ours:
            raise SpiganError(f"train.init_networks: {name!r} is not a network of this run ({', '.join(ours)})")
    taken = [name for name in ours if name in state["networks"] and (not wanted or name in wanted)]
    if not taken:
        raise SpiganError(f"{where}: holds none of this run's networks ({', '.join(ours)}; it holds "
                          f"{', '.join(state['networks']) or 'none'})")
    if "privileged" in taken:  # a checkpoint from before loss.pi learnt depth alone
        there = pi_order(state["config"].get("loss", {}).get("pi", ("depth",)))
        if there != pi_order(pi):
            raise SpiganError(f"{where}: privileged learns {', '.join(there)} there, {', '.join(pi_order(pi))} in this "
                              f"run (loss.pi)")
    for name in taken:
        mine, theirs = ours[name].state_dict(), state["networks"][name]
        for key, value in mine.items():
            if key not in theirs:
                raise SpiganError(f"{where}: {name}.{key} is in this run but not there (another architecture)")
            if value.shape != theirs[key].shape:
                raise SpiganError(f"{where}: {name}.{key} has shape {_shape(theirs[key])} there, "
                                  f"{_shape(value)} in this run")
        extra = [key for key in theirs if key not in mine]
        if extra:
            raise SpiganError(f"{where}: {name}.{extra[0]} is there but not in this run (another architecture)")
    if "task" in taken and list(state["classes"]) != list(classes):
        raise SpiganError(f"{where}: task predicts other classes there ({', '.join(state['classes'])}) than in "
                          f"this run ({', '.join(classes)})")
    for name in taken:
        ours[name].load_state_dict(state["networks"][name])  # a frozen φ stays frozen: only values are copied
    built = [name for name in ours if name not in taken]
    logging.getLogger("spigan").info(
        "train.init_from: %s from %s (its iteration %d)%s; optimisers and iteration start afresh", ", ".join(taken),
        path, state["iteration"], f"; {', '.join(built)} as built" if built else "")
    return {"checkpoint": str(path), "iteration": state["iteration"], "networks": taken}
