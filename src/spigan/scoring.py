"""Scoring: a task network over a labelled split (per-class IoU through spigan.evaluate),
and a finished run's checkpoints on its target's validation split (what results.json
records). It reads data (spigan.sources); segmenting images alone is spigan.inference."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from spigan.checkpoint import load_checkpoint, network_from_checkpoint
from spigan.config import Config
from spigan.data.datasets import data_name, eval_size_name
from spigan.evaluate import Evaluator, Scores
from spigan.inference import segment_logits
from spigan.ontology import Protocol, protocol_for
from spigan.results import RunResult
from spigan.sources import validation_samples


@torch.no_grad()
def evaluate_split(task_net: nn.Module, samples, protocol: Protocol, device: torch.device,
                   batch_size: int = 4, progress: bool = False) -> Scores:
    """Scores `task_net` on every sample of a labelled split (whole images, no crop). Each
    image's logits are upsampled to its own label resolution before the argmax."""
    from tqdm import tqdm

    was_training = task_net.training
    task_net.eval()
    evaluator = Evaluator(protocol)
    dtype = next(task_net.parameters()).dtype  # float64 while training under fp64
    batches = range(0, len(samples), batch_size)
    for start in tqdm(batches, desc="evaluate", disable=not progress, leave=False):
        items = [samples[i] for i in range(start, min(start + batch_size, len(samples)))]
        logits = task_net(torch.stack([it["image"] for it in items]).to(device, dtype))
        for scores, item in zip(logits, items):
            labels = item["labels"]
            pred = segment_logits(scores[None], tuple(labels.shape[-2:]))[0]
            evaluator.add(pred.cpu().numpy(), labels.numpy())
    task_net.train(was_training)
    return evaluator.scores()


def evaluate_checkpoints(run_dir: Path, cfg: Config, device: torch.device, progress: bool = False) -> RunResult:
    """Scores the run's `early_stop` and `last` checkpoints on the target validation split.
    The default model is the early-stopping one when the rule fired (chosen without target
    labels), else the last. The caller fills in the rest of the record."""
    protocol = protocol_for(cfg.data.ontology, cfg.data.protocol)
    val = validation_samples(cfg)
    if hasattr(val.source, "prepare"):
        val.source.prepare(progress)
    scores = {}
    for name in ("early_stop", "last"):
        path = run_dir / "checkpoints" / f"{name}.pt"
        if path.exists():
            net = network_from_checkpoint(load_checkpoint(path), "task", device)
            scores[name] = evaluate_split(net, val, protocol, device, progress=progress)
    default = "early_stop" if "early_stop" in scores else "last"
    scored_on = data_name(cfg.data.target, "val", cfg.data.sim_target_domain, len(val))
    return RunResult(protocol=protocol.name, checkpoints=scores, default=default,
                     eval_size=eval_size_name(cfg.data.eval_size, cfg.data.size), scored_on=scored_on)
