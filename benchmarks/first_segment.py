"""Time from `import spigan` to the first segmented image, in fresh interpreters.

    OMP_NUM_THREADS=1 python benchmarks/first_segment.py CHECKPOINT [--src DIR ...] [--repeats 15] [--size 240x320]

Each repeat starts a new Python process, which times, from before `import spigan`:
importing the API (`spigan.load`), loading the checkpoint on the CPU, and segmenting one
random (H, W, 3) uint8 array (resized to the training size and back: the one
preprocessing path). `total_cpu` is the same span in CPU time (user + system), less
sensitive than wall time to other processes on a busy machine. Interpreter start-up is
not counted. With several `--src` folders (each put first on PYTHONPATH: e.g. the
`src/` of an older commit and this one's), the repeats alternate between them, so that
the machine's load falls on both alike. Prints the median and range of each part, and
how many spigan modules a process loaded (and whether the simulator, the objective, the
losses or OpenCV were among them). A checkpoint to time: any run's checkpoints/last.pt,
e.g. one of the tests' tiny configuration (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
import spigan
load = spigan.load
t1 = time.perf_counter()
model = load(sys.argv[1], device="cpu")
t2 = time.perf_counter()
import numpy as np
h, w = int(sys.argv[2]), int(sys.argv[3])
labels = model.segment(np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8))
t3, c3 = time.perf_counter(), time.process_time()
assert labels.shape == (h, w)
names = [m for m in sys.modules if m == "spigan" or m.startswith("spigan.")]
heavy = sorted({m.split(".")[1] for m in names if m.startswith(("spigan.sim", "spigan.objective", "spigan.losses"))}
               | ({"cv2"} if "cv2" in sys.modules else set()))
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "segment": t3 - t2, "total": t3 - t0, "total_cpu": c3 - c0,
                  "spigan_modules": len(names), "heavy": heavy, "from": spigan.__file__}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--src", action="append", default=[],
                        help="a folder holding the spigan package, put first on PYTHONPATH (repeat to compare)")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--size", default="240x320", help="HxW of the array segmented")
    args = parser.parse_args()
    h, w = args.size.lower().split("x")
    sources = args.src or [None]
    runs: dict = {src: [] for src in sources}
    for _ in range(args.repeats):
        for src in sources:
            env = dict(os.environ)
            if src is not None:
                env["PYTHONPATH"] = os.pathsep.join([os.path.abspath(src)] + env.get("PYTHONPATH", "").split(os.pathsep))
            out = subprocess.run([sys.executable, "-c", CHILD, args.checkpoint, h, w], check=True,
                                 capture_output=True, text=True, env=env).stdout
            runs[src].append(json.loads(out.splitlines()[-1]))
    for src, results in runs.items():
        print(f"{results[-1]['from']}: {len(results)} processes")
        for part in ("import", "load", "segment", "total", "total_cpu"):
            values = [r[part] for r in results]
            print(f"  {part:>9}: median {statistics.median(values):.3f} s "
                  f"(range {min(values):.3f}-{max(values):.3f})")
        print(f"  spigan modules loaded: {results[-1]['spigan_modules']}; of the simulator, objective, losses, "
              f"OpenCV: {', '.join(results[-1]['heavy']) or 'none'}")


if __name__ == "__main__":
    main()
