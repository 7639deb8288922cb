"""The `spigan` command."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from spigan.errors import SpiganError
from spigan.ontology import DATASETS, REAL_DATASETS
from spigan.variant import METHODS


def parse_size(text: str) -> tuple[int, int]:
    """'HxW' -> (H, W)."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {text!r} is not HEIGHTxWIDTH, e.g. 128x256") from None
    if h < 8 or w < 8:
        raise argparse.ArgumentTypeError(f"size {text!r} is too small (at least 8x8)")
    return h, w


def sim_knobs(args):
    """The `sim` renderer's knobs from --camera, --randomization and --degenerate."""
    from spigan.sim.knobs import SimKnobs

    try:
        return SimKnobs(args.camera, args.randomization, args.degenerate)
    except ValueError as e:
        raise SpiganError(f"--{e}") from None


def cmd_sim_preview(args) -> None:
    from spigan.figures import save_preview

    h, w = args.size
    path = save_preview(args.out, scenes=args.scenes, height=h, width=w, seed=args.seed, knobs=sim_knobs(args))
    print(f"wrote {path}")


def cmd_sim_export(args) -> None:
    from spigan.data.export import export

    h, w = args.size
    n = export(args.domain, args.count, h, w, args.out, split=args.split, seed=args.seed, progress=not args.quiet,
               layout=args.layout, knobs=sim_knobs(args))
    layout = args.layout or ("synthia" if args.domain == "sim" else "cityscapes")
    print(f"wrote {n} new frame(s) ({args.count - n} already there) in the {layout} layout under {args.out}")


def add_knob_arguments(parser) -> None:
    """The `sim` renderer's knobs (data.sim_camera, data.sim_randomization, data.sim_degenerate)."""
    from spigan.sim.knobs import SimKnobs

    parser.add_argument("--camera", type=float, default=SimKnobs.camera,
                        help="sim cameras: 0 = SYNTHIA-RAND random views .. 1 = vehicle-mounted (default %(default)s)")
    parser.add_argument("--randomization", type=float, default=SimKnobs.randomization,
                        help="sim domain randomisation strength in [0, 1] (default %(default)s)")
    parser.add_argument("--degenerate", action="store_true", help="keep sim frames that one object fills")


def cmd_data_check(args) -> None:
    import json

    from spigan.data.check import check_dataset

    report = check_dataset(args.dataset, args.root, args.split, progress=not args.quiet)
    print(report.text())
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2))
    if report.problems:
        raise SpiganError(f"{args.root}: {len(report.problems)} malformed or missing file(s), listed above")


def cmd_demo(args) -> None:
    from spigan.demo import run_demo

    run_demo(args.out, args.overrides, progress=not args.quiet)


def cmd_train(args) -> None:
    from spigan.config import load_config
    from spigan.train import resume_run, train

    if args.resume:
        if args.config or args.overrides:
            raise SpiganError("--resume continues a run with its own config: give no CONFIG or key=value")
        run_dir = Path(args.resume)
        results = resume_run(run_dir, progress=not args.quiet)
        cfg_name, method = run_dir.name, results.get("method")
    else:
        if not args.config or ("=" in args.config and not Path(args.config).exists()):
            raise SpiganError("CONFIG: a YAML file is required before key=value overrides (or --resume RUN_DIR)")
        cfg = load_config(args.config, args.overrides)
        run_dir = Path(args.out) if args.out else Path("runs") / cfg.name
        if (run_dir / "config.yaml").exists():
            raise SpiganError(f"{run_dir}: a run already exists there (continue it with --resume, choose another "
                              f"--out, or remove it)")
        results = train(cfg, run_dir, progress=not args.quiet)
        cfg_name, method = cfg.name, results.get("method")
    if not results:  # not the main process of a distributed run
        return
    scores = results["checkpoints"][results["default"]]
    print(f"{cfg_name} [{method}]: mIoU {100 * scores['miou']:.1f} ({results['protocol']}, "
          f"{results['default']} checkpoint) -> {run_dir}")


def cmd_evaluate(args) -> None:
    import json

    import numpy as np
    import torch

    from spigan.checkpoint import (
        checkpoint_config,
        load_checkpoint,
        network_from_checkpoint,
    )
    from spigan.data.datasets import evaluation_samples
    from spigan.evaluate import format_scores, negative_transfer
    from spigan.inference import evaluate_split
    from spigan.ontology import protocol_for

    device = torch.device("cpu")
    state = load_checkpoint(args.checkpoint)
    cfg = checkpoint_config(state)
    net = network_from_checkpoint(state, "task", device)
    protocol = protocol_for(cfg.data.ontology, args.protocol or cfg.data.protocol)
    samples = evaluation_samples(cfg, args.dataset, args.split, args.root, args.frames, args.domain)
    scores = evaluate_split(net, samples, protocol, device, progress=True)
    print(format_scores(scores, f"{args.checkpoint} on {args.dataset}/{args.split}"))
    out = {"checkpoint": str(args.checkpoint), "dataset": args.dataset, "split": args.split, **scores.to_dict()}
    if args.baseline:
        base_net = network_from_checkpoint(load_checkpoint(args.baseline), "task", device)
        base = evaluate_split(base_net, samples, protocol, device, progress=True)
        ratio = negative_transfer(scores, base)
        print(f"  baseline {args.baseline}: mIoU {100 * base.miou:.1f}; negative-transfer ratio {ratio:.2f}")
        out.update({"baseline": str(args.baseline), "baseline_miou": base.miou, "negative_transfer": ratio})
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2, default=lambda v: None if np.isnan(v) else v))


def cmd_ablate(args) -> None:
    from spigan.ablate import ABLATION, ablate

    ablate(args.config, args.seeds, args.out, args.overrides, oracle=args.oracle,
           methods=tuple(args.methods or ABLATION), progress=not args.quiet, jobs=args.jobs)


def cmd_report(args) -> None:
    from spigan.report import load_runs, write_report

    runs = load_runs(args.runs)
    out = Path(args.out)
    write_report(runs, out, oracle=args.oracle)
    print((out / "report.md").read_text())


def cmd_predict(args) -> None:
    from spigan.predict import predict_files

    for path in predict_files(args.checkpoint, args.images, args.out):
        print(f"wrote {path}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spigan", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="SPIGAN vs no adaptation on the built-in simulator (CPU-sized)")
    demo.add_argument("--out", default="runs/demo", help="output folder")
    demo.add_argument("overrides", nargs="*", metavar="key=value", help="changes to configs/demo.yaml")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(func=cmd_demo)

    tr = sub.add_parser("train", help="train one method from a YAML config")
    tr.add_argument("config", nargs="?", help="YAML file (see configs/)")
    tr.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its last checkpoint")
    tr.add_argument("overrides", nargs="*", metavar="key=value", help="e.g. train.method=no_pi train.seed=1")
    tr.add_argument("--out", help="run directory (default runs/NAME)")
    tr.add_argument("--quiet", action="store_true", help="no progress bars")
    tr.set_defaults(func=cmd_train)

    ev = sub.add_parser("evaluate", help="per-class IoU and mIoU of a checkpoint's task network")
    ev.add_argument("checkpoint")
    ev.add_argument("--dataset", default="sim", help=" | ".join(DATASETS))
    ev.add_argument("--root", help="dataset root (real datasets)")
    ev.add_argument("--split", default="val")
    ev.add_argument("--domain", default="photo", choices=("sim", "photo"), help="simulator renderer (--dataset sim)")
    ev.add_argument("--frames", type=int, help="simulator frames to score (default: the config's val_frames)")
    ev.add_argument("--protocol", help="16-class | 13-class | 7-category | camvid-11 (default: the checkpoint's)")
    ev.add_argument("--baseline", help="a second checkpoint: reports the negative-transfer ratio against it")
    ev.add_argument("--json", help="also write the scores to this file")
    ev.set_defaults(func=cmd_evaluate)

    ab = sub.add_parser("ablate", help="source_only, base, no_pi, spigan, target_only over seeds, with a report")
    ab.add_argument("config")
    ab.add_argument("overrides", nargs="*", metavar="key=value")
    ab.add_argument("--seeds", type=int, default=3)
    ab.add_argument("--methods", nargs="+", choices=METHODS, default=None,
                    help="a subset of the methods (default: all five)")
    ab.add_argument("--jobs", type=int, default=1,
                    help="runs trained at once, each on its share of the CPUs (2 is faster on a 2-core CPU)")
    ab.add_argument("--out", default="runs/ablation")
    ab.add_argument("--oracle", action="store_true",
                    help="also report the best checkpoint chosen with target labels (labelled ORACLE)")
    ab.add_argument("--quiet", action="store_true")
    ab.set_defaults(func=cmd_ablate)

    rp = sub.add_parser("report", help="rebuild tables and figures from finished runs, without training")
    rp.add_argument("runs", nargs="+", help="run directories")
    rp.add_argument("--out", default="runs/report")
    rp.add_argument("--oracle", action="store_true", help="include oracle rows where runs have them")
    rp.set_defaults(func=cmd_report)

    pr = sub.add_parser("predict", help="colourised segmentations (and depth maps) of images")
    pr.add_argument("checkpoint")
    pr.add_argument("images", nargs="+")
    pr.add_argument("--out", required=True, help="output folder")
    pr.set_defaults(func=cmd_predict)

    sim = sub.add_parser("sim", help="the built-in street-scene simulator")
    sim_sub = sim.add_subparsers(dest="sim_command", required=True)
    preview = sim_sub.add_parser("preview", help="a PNG grid: sim frame, photo frame, labels, depth")
    preview.add_argument("--out", required=True, help="PNG file to write")
    preview.add_argument("--scenes", type=int, default=4)
    preview.add_argument("--size", type=parse_size, default=(192, 384), help="HxW of each frame")
    preview.add_argument("--seed", type=int, default=0)
    add_knob_arguments(preview)
    preview.set_defaults(func=cmd_sim_preview)
    exp = sim_sub.add_parser("export", help="write simulator frames in SYNTHIA (sim) or Cityscapes (photo) layout")
    exp.add_argument("--domain", required=True, choices=("sim", "photo"))
    exp.add_argument("--count", type=int, required=True)
    exp.add_argument("--size", type=parse_size, required=True, help="HxW")
    exp.add_argument("--out", required=True)
    exp.add_argument("--split", default="train", choices=("train", "val", "test"))
    exp.add_argument("--seed", type=int, default=0)
    exp.add_argument("--layout", choices=REAL_DATASETS,
                     help="default: synthia for sim, cityscapes for photo")
    exp.add_argument("--quiet", action="store_true")
    add_knob_arguments(exp)
    exp.set_defaults(func=cmd_sim_export)

    data = sub.add_parser("data", help="dataset tools")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    check = data_sub.add_parser("check", help="read every file of a split; report sizes, classes, depth, problems")
    check.add_argument("--dataset", required=True, choices=REAL_DATASETS)
    check.add_argument("--root", required=True)
    check.add_argument("--split", default="train")
    check.add_argument("--json", help="also write the report to this file")
    check.add_argument("--quiet", action="store_true")
    check.set_defaults(func=cmd_data_check)
    return parser


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is logged (main() may run many times in
    one process, under stream redirection)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def main(argv: list[str] | None = None) -> int:
    from spigan.errors import Interrupted

    # Decisions a run makes on its own (precision, threads) and its warnings, one line each.
    log = logging.getLogger("spigan")
    if not any(isinstance(h, _StderrHandler) for h in log.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("spigan: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    parser = build_parser()
    # key=value overrides may come after options (`train cfg.yaml --out d train.seed=1`),
    # which argparse alone leaves unrecognised.
    args, extra = parser.parse_known_args(argv)
    if extra:
        if not hasattr(args, "overrides") or not all("=" in e and not e.startswith("-") for e in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.overrides = list(args.overrides) + extra
    try:
        args.func(args)
    except SpiganError as e:
        if args.debug:
            raise
        print(f"spigan: error: {e}", file=sys.stderr)
        return 2
    except Interrupted as e:
        print(f"spigan: {e}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
