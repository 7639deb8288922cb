"""Simulator render speed on one core: frames/s of `render_frame` (scene generation, ray
casting, shading, shadows and, for `photo`, camera effects; no disk I/O). The `sim` renderer
runs at the knobs given (default: the defaults of `data.sim_*`).

    python benchmarks/render_speed.py [--size 128x256] [--frames 200] [--camera 1] [--randomization 0] [--stages]

`--stages` also prints where a `sim` frame's time goes (cProfile's cumulative time per frame
of the pipeline's stages; the profiler adds its own overhead, so read shares, not totals).
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
    parser.add_argument("--stages", action="store_true", help="profile the sim pipeline's stages")
    args = parser.parse_args()
    h, w = (int(v) for v in args.size.split("x"))

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
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
    if args.stages:
        print_stages(h, w, args.frames, knobs)


# The `sim` pipeline, in order: (module file, function) -> what it does.
STAGES = {
    ("scene.py", "generate_scene"): "scene generation",
    ("hits.py", "trace"): "geometric pass (camera rays, hits)",
    ("casting.py", "cast_primary"): "  of which primary ray casting",
    ("casting.py", "surface_frames"): "  of which hit frames and normals",
    ("materials.py", "sim_surfaces"): "materials (textures)",
    ("render_sim.py", "_light"): "lighting",
    ("casting.py", "cast_shadows"): "  of which cast and contact shadows",
    ("render_sim.py", "shade_sim"): "all shading (materials, lighting, sky, blur, exposure)",
    ("__init__.py", "render_frame"): "the whole frame",
}


def print_stages(h: int, w: int, frames: int, knobs) -> None:
    import cProfile
    import pstats

    from spigan.sim import render_frame

    profile = cProfile.Profile()
    profile.enable()
    for i in range(frames):
        render_frame(99, i, h, w, "sim", knobs)
    profile.disable()
    cumulative = {(os.path.basename(f), name): row[3] for (f, _, name), row in pstats.Stats(profile).stats.items()}
    whole = cumulative[("__init__.py", "render_frame")]
    print(f"\nsim stages under cProfile, per frame ({frames} frames):")
    for key, what in STAGES.items():
        print(f"  {1000 * cumulative.get(key, 0.0) / frames:6.1f} ms {100 * cumulative.get(key, 0.0) / whole:5.1f}%  {what}")


if __name__ == "__main__":
    main()
