"""The run's log of numbers: metrics.jsonl (one JSON object per logged iteration) and the
same scalars in TensorBoard, with the images and curves of spigan.monitor beside them."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from spigan.errors import SpiganError


class MetricsLog:
    """metrics.jsonl (one JSON object per logged iteration) and TensorBoard scalars.

    On resume, rows logged after the checkpoint are dropped from metrics.jsonl and purged
    from TensorBoard, so both read as one uninterrupted run; a fresh run drops them all."""

    def __init__(self, run_dir: Path, resume_from: int | None = None):
        from torch.utils.tensorboard import SummaryWriter

        path = run_dir / "metrics.jsonl"
        self.rows: list[dict] = []
        if resume_from is not None and path.exists():
            for line in path.read_text().splitlines():
                try:
                    row = json.loads(line)
                except ValueError:  # a line cut by a kill
                    continue
                if row["iteration"] <= resume_from:
                    self.rows.append(row)
        with open(path, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in self.rows)
        self.file = open(path, "a")
        # A fresh run purges from step 0: a run started again in its folder (it had stopped
        # before its first checkpoint) does not show the old run's curves beside its own.
        self.writer = SummaryWriter(str(run_dir / "tensorboard"),
                                    purge_step=resume_from + 1 if resume_from is not None else 0)

    def write(self, iteration: int, values: dict[str, float]) -> None:
        row = {"iteration": iteration, **values}
        self.rows.append(row)
        self.file.write(json.dumps(row) + "\n")
        self.file.flush()
        for k, v in values.items():
            self.writer.add_scalar(f"loss/{k}" if "/" not in k else k, v, iteration)

    def scalar(self, tag: str, value: float, iteration: int) -> None:
        """A TensorBoard scalar outside the loss rows (e.g. the target-validation curve)."""
        self.writer.add_scalar(tag, value, iteration)

    def image(self, tag: str, rgb, iteration: int) -> None:
        """An (H, W, 3) uint8 RGB panel in TensorBoard's images tab."""
        self.writer.add_image(tag, rgb, iteration, dataformats="HWC")

    def text(self, tag: str, text: str) -> None:
        self.writer.add_text(tag, text, 0)

    def close(self) -> None:
        self.file.close()
        self.writer.close()


GRADIENT_FLAG = "nonfinite_gradient/"  # objective._apply: 1 where a network's gradients were not finite


def check_finite(pending: dict, skip: bool) -> None:
    """In `stop` mode, a non-finite loss, or a finite loss with non-finite gradients, ends
    the run naming the term or network and the iteration: the earliest, and at one
    iteration the gradient, which comes first (it makes the next step's losses NaN)."""
    if skip:
        return
    first = None  # (iteration, gradient first, message)
    for name, entries in pending.items():
        values = torch.stack([v for _, v in entries]).double()
        gradient = name.startswith(GRADIENT_FLAG)
        bad = (values != 0 if gradient else ~torch.isfinite(values)).nonzero()
        if not len(bad):
            continue
        iteration = entries[int(bad[0])][0]
        if gradient:
            message = (f"non-finite gradient of the {name[len(GRADIENT_FLAG):]} network at iteration {iteration} "
                       f"(the losses were finite); stopped without saving it (train.nonfinite=skip skips such "
                       f"updates instead)")
        else:
            message = (f"non-finite {name} loss ({values[int(bad[0])].item()}) at iteration {iteration}; stopped "
                       f"without saving it (train.nonfinite=skip skips such batches instead)")
        if first is None or (iteration, not gradient) < first[:2]:
            first = (iteration, not gradient, message)
    if first is not None:
        raise SpiganError(first[2])


def interval_means(pending: dict[str, list], skip: bool, keep: bool = False) -> dict[str, float]:
    """Each term's mean over the logging interval (the count of skipped updates for
    `skipped`); empties `pending`, unless `keep` (a row that closes no interval, as
    iteration 1's when log_every > 1). The only host-device synchronisation of the loop."""
    check_finite(pending, skip)
    # In float64: the log keeps every digit of an fp64 run (train.precision=fp64).
    values = {k: float(torch.nanmean(torch.stack([v for _, v in e]).double())) for k, e in pending.items()
              if k != "skipped" and not k.startswith(GRADIENT_FLAG)}
    if "skipped" in pending:
        values["skipped"] = float(sum(float(v) for _, v in pending["skipped"]))
    if not keep:
        pending.clear()
    return values


PI_KIND_PREFIX = "privileged_"  # generator_gradient/privileged_KIND: a kind of PI's part of the privileged term


def with_gradient_shares(values: dict[str, float]) -> dict[str, float]:
    """Adds each term's share of the gradient G receives: its norm over the sum of the norms
    of Eq. 1's terms (the "PI share" of issue 14 is generator_gradient_share/privileged). A
    kind of PI's (privileged_depth, privileged_normals, ...) is over the same sum: its
    part of the privileged term, not added to it (the privileged term's norm is that of the
    kinds' gradients summed, not the sum of their norms)."""
    norms = {k.split("/", 1)[1]: v for k, v in values.items() if k.startswith("generator_gradient/")}
    total = sum(v for name, v in norms.items() if not name.startswith(PI_KIND_PREFIX))
    if total > 0:
        values.update({f"generator_gradient_share/{name}": v / total for name, v in norms.items()})
    return values
