"""How close normals derived from SYNTHIA-like depth come to the truth (spigan.data.normals).

Planes seen through SYNTHIA's camera at its 1280x760 frames, their depth rounded to
centimetres as SYNTHIA's 16-bit PNGs store it (the sky beyond 300 m at 65535 cm), their
normals derived with tangents reaching `radius` pixels each side (3: the default; 6: what
the SYNTHIA loader uses for 320x640 training frames), against the planes' own normals:
the share of the plane that gets a normal, and the median and 95th percentile of the
angular error (degrees) by distance.

    .venv/bin/python benchmarks/normals_accuracy.py
"""

from __future__ import annotations

import numpy as np

from spigan.data.normals import normals_from_depth
from spigan.data.real import SYNTHIA_CAMERA

# (name, normal facing the camera in OpenCV axes, the plane's distance from the camera (m))
PLANES = [("road, camera 1.5 m above it", (0.0, -1.0, 0.0), 1.5),
          ("slanted ground", (0.25, -0.85, -0.4), 8.0),
          ("facade at 18°", (0.3, 0.0, -0.95), 8.0)]
BINS = ((0, 5), (5, 10), (10, 20), (20, 50), (50, 300))


def plane_depth(normal: np.ndarray, distance: float) -> np.ndarray:
    camera = SYNTHIA_CAMERA
    u = (np.arange(camera.width) - camera.cx) / camera.fx
    v = (np.arange(camera.height) - camera.cy) / camera.fy
    rays = np.stack(np.broadcast_arrays(u[None, :], v[:, None], np.ones((camera.height, camera.width))), axis=-1)
    with np.errstate(divide="ignore"):
        z = -distance / (rays @ normal)
    return np.where((z > 0) & (z < 300), np.round(z * 100) / 100, 655.35).astype(np.float32)


def main() -> None:
    print("| plane | radius | share with a normal | " + " | ".join(f"{a}-{b} m" for a, b in BINS) + " |")
    print("|---|---|---|" + "---|" * len(BINS))
    for name, normal, distance in PLANES:
        n = np.asarray(normal) / np.linalg.norm(normal)
        z = plane_depth(n, distance)
        for radius in (3, 6):
            derived = normals_from_depth(z, SYNTHIA_CAMERA, radius=radius)
            has = derived.any(-1)
            angle = np.degrees(np.arccos(np.clip(derived[has] @ n, -1, 1)))
            cells = []
            for lo, hi in BINS:
                sel = (z[has] >= lo) & (z[has] < hi)
                cells.append(f"{np.median(angle[sel]):.2f} / {np.percentile(angle[sel], 95):.2f}" if sel.sum() > 100
                             else "-")
            print(f"| {name} | {radius} | {has.sum() / (z < 655).sum():.3f} | " + " | ".join(cells) + " |")
    print("\ncells: median / 95th percentile of the angular error (degrees) of the plane's pixels at that depth")


if __name__ == "__main__":
    main()
