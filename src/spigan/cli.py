"""The `spigan` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spigan.errors import SpiganError


def parse_size(text: str) -> tuple[int, int]:
    """'HxW' -> (H, W)."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {text!r} is not HEIGHTxWIDTH, e.g. 128x256") from None
    if h < 8 or w < 8:
        raise argparse.ArgumentTypeError(f"size {text!r} is too small (at least 8x8)")
    return h, w


def cmd_sim_preview(args) -> None:
    from spigan.sim.preview import save_preview

    h, w = args.size
    path = save_preview(args.out, scenes=args.scenes, height=h, width=w, seed=args.seed)
    print(f"wrote {path}")


def cmd_demo(args) -> None:
    from spigan.sim.preview import save_preview

    out = Path(args.out)
    print("spigan demo: training is not implemented yet; rendering the simulator preview instead.")
    path = save_preview(out / "sim_preview.png")
    print(f"wrote {path}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spigan", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="the main job on the built-in simulator")
    demo.add_argument("--out", default="runs/demo", help="output folder")
    demo.set_defaults(func=cmd_demo)

    sim = sub.add_parser("sim", help="the built-in street-scene simulator")
    sim_sub = sim.add_subparsers(dest="sim_command", required=True)
    preview = sim_sub.add_parser("preview", help="a PNG grid: sim frame, photo frame, labels, depth")
    preview.add_argument("--out", required=True, help="PNG file to write")
    preview.add_argument("--scenes", type=int, default=4)
    preview.add_argument("--size", type=parse_size, default=(192, 384), help="HxW of each frame")
    preview.add_argument("--seed", type=int, default=0)
    preview.set_defaults(func=cmd_sim_preview)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except SpiganError as e:
        if args.debug:
            raise
        print(f"spigan: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
