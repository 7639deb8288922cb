"""Simulator render speed on one core: frames/s of `render_frame` (scene generation, ray
casting, shading, shadows and, for `photo`, camera effects; no disk I/O). The `sim` renderer
runs at the knobs given (default: the defaults of `data.sim_*`).

    python benchmarks/render_speed.py [--size 128x256] [--frames 200] [--camera 1] [--randomization 0]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="128x256")
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--camera", type=float, help="sim camera knob (default: SimKnobs')")
    parser.add_argument("--randomization", type=float, help="sim domain randomisation strength")
    parser.add_argument("--degenerate", action="store_true", help="keep degenerate sim frames")
    parser.add_argument("--domains", default="sim,photo")
    args = parser.parse_args()
    h, w = (int(v) for v in args.size.split("x"))

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    import cv2

    cv2.setNumThreads(1)
    from dataclasses import replace

    from spigan.sim import SimKnobs, render_frame

    knobs = replace(SimKnobs(), **{k: getattr(args, k) for k in ("camera", "randomization") if getattr(args, k) is not None},
                    degenerate=args.degenerate)
    print(f"# {platform.processor() or platform.machine()}, 1 core, {h}x{w}, {args.frames} frames per domain; "
          f"sim knobs: {knobs}; load average {os.getloadavg()[0]:.2f}")
    for domain in args.domains.split(","):
        render_frame(0, 0, h, w, domain, knobs)  # warm-up (imports, caches)
        times = []
        for i in range(args.frames):
            t = time.perf_counter()
            render_frame(99, i, h, w, domain, knobs)
            times.append(time.perf_counter() - t)
        total = sum(times)
        times.sort()
        print(f"{domain:6s} {args.frames / total:6.1f} frames/s  (mean {1000 * total / args.frames:5.1f} ms, "
              f"median {1000 * times[len(times) // 2]:5.1f} ms, p95 {1000 * times[int(0.95 * len(times))]:5.1f} ms)")


if __name__ == "__main__":
    main()
