"""The `spigan` command."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from spigan.errors import SpiganError
from spigan.ontology import DATASETS, REAL_DATASETS
from spigan.variant import METHODS


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors, like every other error of the command."""

    def error(self, message: str):
        self.exit(2, f"spigan: error: {message} (see `{self.prog} --help`)\n")


def unit_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {value}")
    return value


def int_at_least(low: int):
    """An argparse type: a whole number >= `low`."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value
    return parse


positive_int, non_negative_int = int_at_least(1), int_at_least(0)


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
    from spigan.atomic import check_output_file
    from spigan.figures import image_formats, save_preview
    from spigan.sim import check_render_memory

    out = check_output_file(args.out, "--out")
    if out.suffix.lower().lstrip(".") not in image_formats():
        raise SpiganError(f"--out {out}: unknown image format {out.suffix or '(none)'!r} "
                          f"(use one of: {', '.join(sorted(image_formats()))})")
    if args.scenes > 64:
        raise SpiganError(f"--scenes: at most 64 (one row each), got {args.scenes}")
    h, w = args.size
    check_render_memory(h, w, f"--size {h}x{w}: the preview", figure_panels=4 * args.scenes)
    path = save_preview(out, scenes=args.scenes, height=h, width=w, seed=args.seed, knobs=sim_knobs(args))
    print(f"wrote {path}")


def cmd_sim_export(args) -> None:
    from spigan.atomic import check_output_dir
    from spigan.data.export import export
    from spigan.sim import check_render_memory

    check_output_dir(args.out, "--out")
    h, w = args.size
    check_render_memory(h, w, f"--size {h}x{w}: rendering one frame")
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

    from spigan.atomic import check_output_file, write_text_atomically
    from spigan.data.check import check_dataset

    if args.json:
        check_output_file(args.json, "--json")
    report = check_dataset(args.dataset, args.root, args.split, progress=not args.quiet)
    print(report.text())
    if args.json:
        write_text_atomically(args.json, json.dumps(report.to_dict(), indent=2))
    if report.problems:
        raise SpiganError(f"{args.root}: {len(report.problems)} malformed or missing file(s), listed above")


def cmd_demo(args) -> None:
    from spigan.atomic import check_output_dir
    from spigan.demo import run_demo

    run_demo(check_output_dir(args.out, "--out"), args.overrides, progress=not args.quiet)


def cmd_train(args) -> None:
    from spigan.atomic import check_output_dir
    from spigan.checkpoint import has_checkpoint
    from spigan.config import config_text, load_config
    from spigan.train import resume_run, train

    if args.resume:
        overrides = list(args.overrides)
        if args.config:  # argparse takes the first key=value for CONFIG
            if "=" not in args.config or Path(args.config).exists():
                raise SpiganError("--resume continues a run with its own config: give no CONFIG (key=value "
                                  "overrides of the keys a resumed run may change are accepted)")
            overrides.insert(0, args.config)
        if args.out:
            raise SpiganError(f"--out: not with --resume (the run continues in {args.resume})")
        run_dir = Path(args.resume)
        if args.dry_run:
            return _resume_dry_run(run_dir, overrides)
        results = resume_run(run_dir, progress=not args.quiet, overrides=overrides)
        cfg_name, method = run_dir.name, results.get("method")
    else:
        if not args.config or ("=" in args.config and not Path(args.config).exists()):
            raise SpiganError("CONFIG: a YAML file or a shipped config's name (`spigan config list`) is required "
                              "before key=value overrides (or --resume RUN_DIR)")
        cfg = load_config(args.config, args.overrides)
        run_dir = Path(args.out) if args.out else Path("runs") / cfg.name
        # A folder whose run stopped before its first checkpoint has nothing to continue from:
        # the same command (or a changed one) starts it afresh.
        afresh = (run_dir / "config.yaml").exists()
        if afresh and has_checkpoint(run_dir):
            raise SpiganError(f"{run_dir}: a run already exists there (continue it with --resume, choose another "
                              f"--out, or remove it)")
        check_output_dir(run_dir, "--out")
        if args.dry_run:
            return _dry_run(cfg, run_dir, config_text(cfg))
        if afresh:
            logging.getLogger("spigan").info("%s: the run there stopped before its first checkpoint; starting it "
                                             "afresh", run_dir)
        results = train(cfg, run_dir, progress=not args.quiet)
        cfg_name, method = cfg.name, results.get("method")
    if not results:  # not the main process of a distributed run
        return
    miou = results["checkpoints"][results["default"]]["miou"]
    print(f"{cfg_name} [{method}]: mIoU {'n/a' if miou is None else f'{100 * miou:.1f}'} on {results['scored_on']} "
          f"({results['protocol']}, {results['default']} checkpoint) -> {run_dir}")


def _dry_run(cfg, run_dir: Path, text: str) -> None:
    """Prints the resolved config and lists the real datasets' files; trains and writes nothing."""
    from spigan.sources import VALIDATION_KEYS, frame_source

    variant = cfg.variant()
    listed = []
    roles = ((variant.train_role, "train", variant.batch_keys), ("target", "train", variant.target_keys),
             ("target", "val", VALIDATION_KEYS))
    for role, split, keys in roles:
        if (role == "target" and split == "train" and not variant.adapted) or getattr(cfg.data, role) == "sim":
            continue
        listed.append(f"{getattr(cfg.data, role)}/{split}: {len(frame_source(cfg, role, split, keys))} frames")
    print(text, end="")
    print(f"# dry run: {variant.method}, {cfg.train.iterations} iterations into {run_dir}"
          f"{'; ' + '; '.join(listed) if listed else ''}. Nothing was trained or written.")


def _resume_dry_run(run_dir: Path, overrides: list[str]) -> None:
    from spigan.checkpoint import last_checkpoint
    from spigan.config import config_text
    from spigan.resume import resumed_config

    state = last_checkpoint(run_dir)
    cfg, changes = resumed_config(state["config"], run_dir / "config.yaml", overrides)
    print(config_text(cfg), end="")
    print(f"# dry run: would resume at iteration {state['iteration']} of {cfg.train.iterations}; "
          f"{'changes: ' + '; '.join(map(str, changes)) if changes else 'no changes'}. Nothing was written.")


def cmd_config_show(args) -> None:
    from spigan.config import config_text, load_config

    # The roots are checked by train and --dry-run, which read the data: a config is shown without them.
    print(config_text(load_config(args.config, args.overrides, roots=False)), end="")


def cmd_config_list(args) -> None:
    from spigan.config import CONFIG_DIR, named_configs

    for name in named_configs():
        first = next((line.lstrip("# ").strip() for line in (CONFIG_DIR / f"{name}.yaml").read_text().splitlines()
                      if line.startswith("#")), "")
        print(f"{name:<32} {first}")


def cmd_export(args) -> None:
    from spigan.atomic import check_output_file
    from spigan.deploy import export_task_network

    out = check_output_file(args.out, "--out")
    path = export_task_network(args.checkpoint, out, args.format)
    print(f"wrote {path} ({args.format}: the task network T of {args.checkpoint})")


def cmd_evaluate(args) -> None:
    import json

    import numpy as np

    from spigan.atomic import check_output_file, write_text_atomically
    from spigan.checkpoint import (
        checkpoint_config,
        load_checkpoint,
        network_from_checkpoint,
    )
    from spigan.data.datasets import data_name, eval_size_name
    from spigan.evaluate import format_scores, negative_transfer
    from spigan.hardware import resolve_device
    from spigan.ontology import protocol_for
    from spigan.scoring import evaluate_split
    from spigan.sources import evaluation_samples

    if args.json:
        check_output_file(args.json, "--json")
    device = resolve_device(args.device, "--device")
    state = load_checkpoint(args.checkpoint)
    cfg = checkpoint_config(state)
    base_state = None
    if args.baseline:
        base_state = load_checkpoint(args.baseline)
        base_cfg = checkpoint_config(base_state)
        if list(base_state["classes"]) != list(state["classes"]):
            raise SpiganError(f"--baseline {args.baseline}: predicts the {base_cfg.data.ontology} classes, the "
                              f"checkpoint the {cfg.data.ontology} classes; negative transfer compares models of "
                              f"one class set")
    net = network_from_checkpoint(state, "task", device, cfg)
    protocol = protocol_for(cfg.data.ontology, args.protocol or cfg.data.protocol)
    samples = evaluation_samples(cfg, args.dataset, args.split, args.root, args.frames, args.domain, args.eval_size)
    scores = evaluate_split(net, samples, protocol, device, progress=True)
    size = eval_size_name(args.eval_size or cfg.data.eval_size, cfg.data.size)
    scored_on = data_name(args.dataset, args.split, args.domain, len(samples))
    print(format_scores(scores, f"{args.checkpoint} on {scored_on}, scored at {size}"))
    out = {"checkpoint": str(args.checkpoint), "dataset": args.dataset, "split": args.split,
           "domain": args.domain if args.dataset == "sim" else None, "images": len(samples), "eval_size": size,
           **scores.to_dict()}
    if base_state is not None:
        base = evaluate_split(network_from_checkpoint(base_state, "task", device, base_cfg), samples, protocol,
                              device, progress=True)
        ratio = negative_transfer(scores, base)
        print(f"  baseline {args.baseline}: mIoU {100 * base.miou:.1f}; negative-transfer ratio {ratio:.2f}")
        out.update({"baseline": str(args.baseline), "baseline_miou": base.miou, "negative_transfer": ratio})
    if args.json:
        write_text_atomically(args.json, json.dumps(out, indent=2, default=lambda v: None if np.isnan(v) else v))


def cmd_ablate(args) -> None:
    from spigan.ablate import ABLATION, ablate
    from spigan.atomic import check_output_dir

    check_output_dir(args.out, "--out")
    ablate(args.config, args.seeds, args.out, args.overrides, oracle=args.oracle,
           methods=tuple(args.methods or ABLATION), progress=not args.quiet, jobs=args.jobs,
           warm_start=args.warm_start)


def cmd_report(args) -> None:
    from spigan.atomic import check_output_dir
    from spigan.report import load_runs, write_report

    out = check_output_dir(args.out, "--out")
    runs = load_runs(args.runs)
    write_report(runs, out, oracle=args.oracle)
    print((out / "report.md").read_text())


def cmd_predict(args) -> None:
    from spigan.atomic import check_output_dir
    from spigan.predict import predict

    check_output_dir(args.out, "--out")
    # Progress bars only on a terminal: a log file (or a test) gets the one-line error alone.
    written, images, videos, skipped = predict(
        args.checkpoint, args.inputs, args.out, device=args.device, confidence=args.confidence, alpha=args.alpha,
        batch_size=args.batch_size, video_frames=args.video_frames, progress=not args.quiet and sys.stderr.isatty())
    what = f"{images} image(s)" + (f" and {videos} video(s)" if videos else "")
    print(f"wrote {len(written)} file(s) for {what} under {args.out}"
          + (f" ({skipped} unreadable file(s) skipped, named above)" if skipped else ""))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="spigan", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors (anywhere on the line)")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="SPIGAN vs no adaptation on the built-in simulator (CPU-sized)")
    demo.add_argument("--out", default="runs/demo", help="output folder")
    demo.add_argument("overrides", nargs="*", metavar="key=value", help="changes to configs/demo.yaml")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(func=cmd_demo)

    tr = sub.add_parser("train", help="train one method from a YAML config")
    tr.add_argument("config", nargs="?", help="a YAML file, or a shipped config's name (`spigan config list`)")
    tr.add_argument("--resume", metavar="RUN_DIR",
                    help="continue a run from its last checkpoint; key=value may then change only train.iterations, "
                         "the dataset roots and cache, device, threads, precision and logging (README)")
    tr.add_argument("overrides", nargs="*", metavar="key=value", help="e.g. train.method=no_pi train.seed=1")
    tr.add_argument("--out", help="run directory (default runs/NAME)")
    tr.add_argument("--dry-run", action="store_true",
                    help="print the resolved config and list the datasets' files; train and write nothing")
    tr.add_argument("--quiet", action="store_true", help="no progress bars")
    tr.set_defaults(func=cmd_train)

    cf = sub.add_parser("config", help="the shipped configs; a config resolved (bases and key=value applied)")
    cf_sub = cf.add_subparsers(dest="config_command", required=True)
    show = cf_sub.add_parser("show", help="print the resolved config, as a run would save it")
    show.add_argument("config", help="a YAML file, or a shipped config's name")
    show.add_argument("overrides", nargs="*", metavar="key=value")
    show.set_defaults(func=cmd_config_show)
    lst = cf_sub.add_parser("list", help="the configs shipped with spigan (usable by name from any folder)")
    lst.set_defaults(func=cmd_config_list)

    ev = sub.add_parser("evaluate", help="per-class IoU and mIoU of a checkpoint's task network")
    ev.add_argument("checkpoint", help="a checkpoint file, or a run folder (its early_stop.pt, else last.pt)")
    ev.add_argument("--dataset", default="sim", help=" | ".join(DATASETS))
    ev.add_argument("--root", help="dataset root (real datasets)")
    ev.add_argument("--split", default="val", help="simulator: train | val | test; a real dataset: its split's "
                                                   "folder name (default val)")
    ev.add_argument("--domain", default="photo", choices=("sim", "photo"), help="simulator renderer (--dataset sim)")
    ev.add_argument("--frames", type=positive_int,
                    help="score this many frames (simulator: default data.val_frames; real: the first N images)")
    ev.add_argument("--eval-size", choices=("native", "train"),
                    help="native: at each label's resolution; train: labels resized to data.size, the paper's "
                         "protocol (default: the checkpoint's data.eval_size)")
    ev.add_argument("--protocol", help="16-class | 13-class | 7-category | camvid-11 (default: the checkpoint's)")
    ev.add_argument("--baseline", help="a second checkpoint: reports the negative-transfer ratio against it")
    ev.add_argument("--json", help="also write the scores to this file")
    ev.add_argument("--device", default="auto", help="auto (a GPU where there is one) | cpu | cuda | cuda:N")
    ev.set_defaults(func=cmd_evaluate)

    ab = sub.add_parser("ablate", help="source_only, base, no_pi, spigan, target_only over seeds, with a report")
    ab.add_argument("config", help="a YAML file, or a shipped config's name (`spigan config list`)")
    ab.add_argument("overrides", nargs="*", metavar="key=value", help="changes to the config, for every run")
    ab.add_argument("--seeds", type=positive_int, default=3, help="seeds 0..N-1 of every method (default 3)")
    ab.add_argument("--methods", nargs="+", choices=METHODS, default=None,
                    help="a subset of the methods (default: all five)")
    ab.add_argument("--jobs", type=positive_int, default=1,
                    help="runs trained at once, each on its share of the CPUs (2 is faster on a 2-core CPU)")
    ab.add_argument("--out", default="runs/ablation",
                    help="folder of the runs (METHOD-sSEED) and the report; re-run to continue (default runs/ablation)")
    ab.add_argument("--warm-start", type=non_negative_int, default=0, metavar="N",
                    help="first pretrain T, P and φ on the simulator's labels and depth for N iterations per seed "
                         "(OUT/pretrain-sSEED, train.method=pretrain) and start every run of that seed from it "
                         "(train.init_from); default 0: no warm start")
    ab.add_argument("--oracle", action="store_true",
                    help="also report the best checkpoint chosen with target labels (labelled ORACLE)")
    ab.add_argument("--quiet", action="store_true", help="no progress bars")
    ab.set_defaults(func=cmd_ablate)

    rp = sub.add_parser("report", help="rebuild tables and figures from finished runs, without training")
    rp.add_argument("runs", nargs="+", help="run directories")
    rp.add_argument("--out", default="runs/report",
                    help="folder for report.md, report.csv, report.json and figures/ (default runs/report)")
    rp.add_argument("--oracle", action="store_true", help="include oracle rows where runs have them")
    rp.set_defaults(func=cmd_report)

    pr = sub.add_parser("predict", help="segmentations (label ids, colours, overlays) and depth of images and videos")
    pr.add_argument("checkpoint", help="a checkpoint file, or a run folder (its early_stop.pt, else last.pt)")
    pr.add_argument("inputs", nargs="+", metavar="INPUT",
                    help="image files, folders (every image and video below them), quoted glob patterns, videos")
    pr.add_argument("--out", required=True, help="output folder")
    pr.add_argument("--device", default="auto", help="auto (a GPU where there is one) | cpu | cuda | cuda:N")
    pr.add_argument("--confidence", action="store_true",
                    help="also write NAME_confidence.png (top softmax probability) and NAME_entropy.png")
    pr.add_argument("--alpha", type=unit_float, default=0.5, help="opacity of the colours in NAME_overlay.png")
    pr.add_argument("--batch-size", type=positive_int, default=8, help="images per network pass")
    pr.add_argument("--video-frames", action="store_true", help="also write every video frame's files in NAME/")
    pr.add_argument("--quiet", action="store_true", help="no progress bars")
    pr.set_defaults(func=cmd_predict)

    ex = sub.add_parser("export", help="the task network T of a checkpoint for deployment (TorchScript, ONNX)")
    ex.add_argument("checkpoint", help="a checkpoint file, or a run folder (its early_stop.pt, else last.pt)")
    ex.add_argument("--format", default="torchscript", choices=("torchscript", "pt2", "onnx"),
                    help="torchscript (torch.jit.load), pt2 (torch.export.load), onnx (needs the onnx package)")
    ex.add_argument("--out", required=True, help="file to write (e.g. model.pt, model.pt2, model.onnx)")
    ex.set_defaults(func=cmd_export)

    sim = sub.add_parser("sim", help="the built-in street-scene simulator")
    sim_sub = sim.add_subparsers(dest="sim_command", required=True)
    preview = sim_sub.add_parser("preview", help="a PNG grid: sim frame, photo frame, labels, depth")
    preview.add_argument("--out", required=True, help="image file to write (PNG, PDF, SVG, JPEG, ...)")
    preview.add_argument("--scenes", type=positive_int, default=4)
    preview.add_argument("--size", type=parse_size, default=(192, 384), help="HxW of each frame")
    preview.add_argument("--seed", type=int, default=0)
    add_knob_arguments(preview)
    preview.set_defaults(func=cmd_sim_preview)
    exp = sim_sub.add_parser("export", help="write simulator frames in SYNTHIA (sim) or Cityscapes (photo) layout")
    exp.add_argument("--domain", required=True, choices=("sim", "photo"))
    exp.add_argument("--count", type=positive_int, required=True)
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
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv  # accepted anywhere, before or after the subcommand
    argv = [a for a in argv if a != "--debug"]
    # key=value overrides may come after options (`train cfg.yaml --out d train.seed=1`),
    # which argparse alone leaves unrecognised.
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            if not hasattr(args, "overrides") or not all("=" in e and not e.startswith("-") for e in extra):
                parser.error(f"unrecognized arguments: {' '.join(extra)}")
            args.overrides = list(args.overrides) + extra
    except SystemExit as e:  # a usage error (one line, printed) or --help
        return e.code if isinstance(e.code, int) else 2
    try:
        args.func(args)
    except Interrupted as e:
        print(f"spigan: {e}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("spigan: interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        if debug:
            raise
        print(f"spigan: error: {_one_line(e)}", file=sys.stderr)
        return 2 if isinstance(e, (SpiganError, OSError, MemoryError)) else 1
    return 0


def _one_line(error: Exception) -> str:
    """The message of an error, on one line: ours as they are; the system's with the file
    they concern; anything else as an internal error (a bug), with the way to see more."""
    if isinstance(error, SpiganError):
        return str(error)
    if isinstance(error, OSError):
        where = error.filename or ""
        return f"{where}: {error.strerror or error}" if where else f"{error.strerror or error}"
    if isinstance(error, MemoryError):
        return f"out of memory ({str(error).splitlines()[0] if str(error) else 'MemoryError'}); use smaller sizes"
    first = str(error).splitlines()[0] if str(error) else ""
    return f"internal error ({type(error).__name__}: {first}); rerun with --debug for the traceback"


if __name__ == "__main__":
    sys.exit(main())
