"""Tables from finished runs: the ablation report (Table 2's columns, mean ± std over
seeds, every seed's row, negative transfer against the same seed's source-only model), as
Markdown, CSV and JSON, with the figures of spigan.figures beside them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from spigan.errors import SpiganError
from spigan.evaluate import negative_transfer
from spigan.figures import GRADIENT_TERMS, PI_GRADIENT_TERMS, pi_terms_shown, write_figures
from spigan.results import FinishedRun, load_run
from spigan.variant import METHODS


def load_runs(paths: list[str | Path]) -> list[FinishedRun]:
    """Finished runs that can share one table: the same protocol and evaluation size, and
    no two runs of the same method and seed (they would be averaged as if independent)."""
    if not paths:
        raise SpiganError("no run folders given")
    runs = [load_run(p) for p in paths]
    protocols = {r.result.protocol for r in runs}
    if len(protocols) > 1:
        raise SpiganError(f"runs scored with different protocols cannot share a table: {sorted(protocols)}")
    sizes = {r.result.eval_size or "native (each label's own resolution)" for r in runs}
    if len(sizes) > 1:
        raise SpiganError(f"runs scored at different evaluation sizes cannot share a table: {sorted(sizes)}")
    seen: dict[tuple[str, int], Path] = {}
    for r in runs:
        key = (r.method, r.seed)
        if key in seen:
            raise SpiganError(f"{r.path}: same method ({r.method}) and seed ({r.seed}) as {seen[key]}; give each "
                              f"(method, seed) once")
        seen[key] = r.path
    return runs


def _mean_std(values: list[float]) -> tuple[float, float | None]:
    """Mean and (population) std over the defined values; the std is None for one value,
    where a spread is not measured."""
    a = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    a = a[~np.isnan(a)]
    if not a.size:
        return float("nan"), float("nan")
    return float(a.mean()), (float(a.std()) if a.size > 1 else None)


def aggregate(runs: list[FinishedRun], which: str = "default") -> dict:
    """Per method: every seed's mIoU and per-class IoU, their mean and std over seeds, and
    the negative-transfer ratio against the same seed's source_only run."""
    source = {r.seed: r for r in runs if r.method == "source_only"}
    out: dict = {"protocol": runs[0].result.protocol, "eval_size": runs[0].result.eval_size, "checkpoint": which,
                 "methods": {}}
    for method in [m for m in METHODS if any(r.method == m for r in runs)]:
        mine = sorted((r for r in runs if r.method == method), key=lambda r: r.seed)
        if which == "oracle" and not all("oracle" in r.result.checkpoints for r in mine):
            continue
        seeds = []
        for r in mine:
            scores = r.result.scores(which)
            s = scores.to_dict()
            row = {"seed": r.seed, "miou": s["miou"], "iou": s["iou"], "run": str(r.path),
                   "checkpoint": r.result.default if which == "default" else which,
                   "early_stopping_iteration": r.result.early_stopping_iteration, "init_from": r.result.init_from}
            if r.cfg.variant().adapted and r.seed in source:
                row["negative_transfer"] = negative_transfer(scores, source[r.seed].result.scores("default"))
            seeds.append(row)
        classes = list(seeds[0]["iou"])
        entry = {"seeds": seeds, "miou": _mean_std([s["miou"] for s in seeds]),
                 "iou": {c: _mean_std([s["iou"][c] for s in seeds]) for c in classes}}
        if all("negative_transfer" in s for s in seeds):
            entry["negative_transfer"] = _mean_std([s["negative_transfer"] for s in seeds])
        out["methods"][method] = entry
    return out


def _pm(value: tuple[float, float | None], scale: float = 100.0, digits: int = 1) -> str:
    mean, std = value
    if np.isnan(mean):
        return "n/a"
    return f"{scale * mean:.{digits}f}" + ("" if std is None else f" ± {scale * std:.{digits}f}")


def markdown(table: dict, title: str) -> str:
    methods = table["methods"]
    if not methods:
        return f"## {title}\n\n(no runs)\n"
    classes = list(next(iter(methods.values()))["iou"])
    seeds = sorted({len(e["seeds"]) for e in methods.values()})
    spread = "one seed (no spread)" if seeds == [1] else f"mean ± std over {'/'.join(map(str, seeds))} seeds"
    lines = [f"## {title}", "", f"Protocol: {table['protocol']}; scored at: {table.get('eval_size') or 'native'}; "
             f"{spread}.", "",
             "| method | " + " | ".join(classes) + " | mIoU | neg. transfer |",
             "|---" * (len(classes) + 3) + "|"]
    for m, e in methods.items():
        nt = _pm(e["negative_transfer"], 1, 2) if "negative_transfer" in e else "-"
        lines.append(f"| {m} | " + " | ".join(_pm(e["iou"][c]) for c in classes) + f" | **{_pm(e['miou'])}** | {nt} |")
    lines += ["", "Every seed (mIoU; negative transfer against the same seed's source_only; checkpoint used):", "",
              "| method | seed | mIoU | neg. transfer | checkpoint | early stop |", "|---|---|---|---|---|---|"]
    for m, e in methods.items():
        for s in e["seeds"]:
            nt = f"{s['negative_transfer']:.2f}" if "negative_transfer" in s else "-"
            miou = "n/a" if s["miou"] is None else f"{100 * s['miou']:.1f}"
            lines.append(f"| {m} | {s['seed']} | {miou} | {nt} | {s['checkpoint']} | "
                         f"{s['early_stopping_iteration'] or '-'} |")
    return "\n".join(lines) + "\n"


def starts_markdown(runs: list[FinishedRun]) -> str:
    """Which runs started from another run's weights (train.init_from; with `spigan ablate
    --warm-start N`, their seed's pretraining), one row each; "" when none did."""
    started = sorted((r for r in runs if r.result.init_from), key=lambda r: (r.seed, r.method))
    if not started:
        return ""
    lines = ["## Initial weights", "", "These runs started from another run's weights (`train.init_from`: with "
             "`spigan ablate --warm-start N`, their seed's pretraining on the simulator, `train.method: pretrain`); "
             "their optimisers and iteration started afresh:", "",
             "| method | seed | started from | networks taken | checkpoint |", "|---|---|---|---|---|"]
    for r in started:
        record = r.result.init_from
        lines.append(f"| {r.method} | {r.seed} | {r.result.started_from()} | {', '.join(record['networks'])} | "
                     f"{record['checkpoint']} |")
    others = [r for r in runs if not r.result.init_from]
    if others:
        lines += ["", "The others started as their configs build them: "
                  + ", ".join(f"{r.method} (seed {r.seed})" for r in sorted(others, key=lambda r: (r.seed, r.method)))
                  + "."]
    return "\n".join(lines) + "\n"


def gradient_shares(runs: list[FinishedRun]) -> dict:
    """Per adapted method: each term's median share of G's gradient over a run's logged
    iterations, as mean ± std over seeds (runs logged before the diagnostic existed are
    left out); each kind of privileged information's too (privileged_KIND: its part of the
    privileged term, over the same total)."""
    out = {}
    for method in METHODS:
        medians: dict[str, list[float]] = {}
        for r in (r for r in runs if r.method == method and r.cfg.variant().adapted):
            path = r.path / "metrics.jsonl"
            rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
            for term in (*GRADIENT_TERMS, *PI_GRADIENT_TERMS):
                values = [row[f"generator_gradient_share/{term}"] for row in rows
                          if f"generator_gradient_share/{term}" in row]
                if values:
                    medians.setdefault(term, []).append(float(np.median(values)))
        if medians:
            out[method] = {term: _mean_std(v) for term, v in medians.items()}
    return out


def shares_markdown(shares: dict) -> str:
    if not shares:
        return ""
    kinds = pi_terms_shown(term for entry in shares.values() for term in entry)  # a column each
    labels = {**GRADIENT_TERMS, **kinds}
    terms = list(labels)
    note = " (γ_k·L_k: a kind of privileged information's part of γ·L_P, over the same total)" if kinds else ""
    lines = ["## What moves G", "", "Each weighted term's share of the gradient norms G receives (median over a run's "
             f"logged iterations; mean ± std over seeds), in %{note}:", "",
             "| method | " + " | ".join(labels[t] for t in terms) + " |", "|---" * (len(terms) + 1) + "|"]
    for method, entry in shares.items():
        lines.append(f"| {method} | " + " | ".join(_pm(entry[t]) if t in entry else "-" for t in terms) + " |")
    return "\n".join(lines) + "\n"


def write_report(runs: list[FinishedRun], out: str | Path, oracle: bool = False, figures: bool = True) -> dict:
    """report.md, report.csv, report.json (and figures/) for a set of finished runs."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables = {"default": aggregate(runs, "default"), "last": aggregate(runs, "last")}
    if oracle:
        tables["oracle"] = aggregate(runs, "oracle")
    titles = {"default": "Default checkpoint (early stopping where it fired; no target labels used)",
              "last": "Last checkpoint", "oracle": "ORACLE: best checkpoint chosen with target labels"}
    shares = gradient_shares(runs)
    starts = starts_markdown(runs)  # first: it says what every number below started from
    text = "# Ablation report\n\n" + (starts + "\n" if starts else "")
    text += "\n".join(markdown(tables[k], titles[k]) for k in tables)
    text += ("\n" + shares_markdown(shares)) if shares else ""
    (out / "report.md").write_text(text)
    (out / "report.json").write_text(json.dumps({**tables, "generator_gradient_shares": shares}, indent=2,
                                                default=lambda v: None))
    with open(out / "report.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["checkpoint", "protocol", "method", "seed", "miou", "negative_transfer", "class", "iou"])
        for which, table in tables.items():
            for method, e in table["methods"].items():
                for s in e["seeds"]:
                    for c, v in s["iou"].items():
                        writer.writerow([which, table["protocol"], method, s["seed"], s["miou"],
                                         s.get("negative_transfer", ""), c, "" if v is None else v])
    if figures:
        tables["figures"] = {str(p): panels for p, panels in write_figures(runs, out / "figures").items()}
    return tables
