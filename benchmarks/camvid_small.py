"""A smaller copy of CamVid in SegNet's layout, for a GPU machine that takes little data
with it (benchmarks/gpu_first_check.sh carries at most 64 MiB beside the checkout).

    python benchmarks/camvid_small.py /path/to/camvid camvid-small [--scale 0.5] [--frames N] [--max-mib 60]

Writes DST/{train,val}/NAME.png and DST/{train,val}annot/NAME.png, the layout `--dataset
camvid` reads: every frame of each split (or `--frames` of them, spread over the split,
which is a video sequence), images resized by `--scale` with area averaging, labels with
nearest neighbour (class ids stay ids), PNGs at maximum compression. At the default scale
0.5 CamVid's 360x480 frames become 180x240, and its 468 train and val frames 32.7 MiB
(123 MB as distributed; measured on the SegNet tutorial's copy). Scores on the copy are
at its label resolution, not CamVid's.
Refuses to leave a copy larger than `--max-mib`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from spigan.data import io
from spigan.errors import SpiganError


def shrink(src: str | Path, dst: str | Path, scale: float = 0.5, frames: int | None = None,
           splits: tuple[str, ...] = ("train", "val"), max_mib: float = 60.0) -> dict:
    """Writes the smaller copy; returns {"frames": {split: count}, "bytes": total}."""
    src, dst = Path(src), Path(dst)
    if not 0 < scale <= 1:
        raise SpiganError(f"--scale {scale}: expected a factor in (0, 1]")
    counts, total = {}, 0
    for split in splits:
        images = sorted((src / split).glob("*.png"))
        if not images:
            raise SpiganError(f"{src / split}: no *.png images (expected CamVid in SegNet's layout)")
        if frames is not None and frames < len(images):
            images = [images[int(k)] for k in np.linspace(0, len(images) - 1, frames).round()]
        for image_path in images:
            label_path = src / f"{split}annot" / image_path.name
            rgb = io.read_rgb(image_path)
            labels = io.read_index_png(label_path)
            if labels.shape != rgb.shape[:2]:
                raise SpiganError(f"{label_path}: label size differs from its image's")
            h, w = (max(1, round(n * scale)) for n in rgb.shape[:2])
            small_rgb = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
            small_labels = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST)
            for path, array in ((dst / split / image_path.name, small_rgb[..., ::-1]),
                                (dst / f"{split}annot" / image_path.name, small_labels)):
                ok, data = cv2.imencode(".png", np.ascontiguousarray(array), [cv2.IMWRITE_PNG_COMPRESSION, 9])
                if not ok:
                    raise SpiganError(f"{path}: OpenCV could not encode the image")
                io.write_file_atomic(path, data)
                total += data.size
        counts[split] = len(images)
    if total > max_mib * 2**20:
        raise SpiganError(f"{dst}: the copy takes {total / 2**20:.1f} MiB, over --max-mib {max_mib:g}: use a smaller "
                          f"--scale or --frames")
    return {"frames": counts, "bytes": total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src", help="CamVid in SegNet's layout ({train,val}/*.png, {train,val}annot/*.png)")
    parser.add_argument("dst", help="where the smaller copy goes")
    parser.add_argument("--scale", type=float, default=0.5, help="size factor (default %(default)s)")
    parser.add_argument("--frames", type=int, help="at most this many frames per split, spread over it")
    parser.add_argument("--splits", nargs="+", default=["train", "val"])
    parser.add_argument("--max-mib", type=float, default=60.0, help="size limit of the copy (default %(default)s)")
    args = parser.parse_args()
    try:
        done = shrink(args.src, args.dst, args.scale, args.frames, tuple(args.splits), args.max_mib)
    except SpiganError as e:
        raise SystemExit(f"camvid_small: error: {e}") from None
    print(f"wrote {', '.join(f'{n} {s}' for s, n in done['frames'].items())} frames, "
          f"{done['bytes'] / 2**20:.1f} MiB, under {args.dst}")


if __name__ == "__main__":
    main()
