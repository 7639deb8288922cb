"""The run's log of numbers: metrics.jsonl (one JSON object per logged iteration) and the
same scalars in TensorBoard."""

from __future__ import annotations

import json
from pathlib import Path


class MetricsLog:
    """metrics.jsonl (one JSON object per logged iteration) and TensorBoard scalars.

    On resume, rows logged after the checkpoint are dropped from metrics.jsonl and purged
    from TensorBoard, so both read as one uninterrupted run."""

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
        self.writer = SummaryWriter(str(run_dir / "tensorboard"),
                                    purge_step=resume_from + 1 if resume_from is not None else None)

    def write(self, iteration: int, values: dict[str, float]) -> None:
        row = {"iteration": iteration, **values}
        self.rows.append(row)
        self.file.write(json.dumps(row) + "\n")
        self.file.flush()
        for k, v in values.items():
            self.writer.add_scalar(f"loss/{k}" if "/" not in k else k, v, iteration)

    def close(self) -> None:
        self.file.close()
        self.writer.close()
