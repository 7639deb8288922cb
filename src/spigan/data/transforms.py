"""The one path from arrays to network inputs and back: every image reaches a network (in
training, evaluation, prediction and figures) through `image_to_tensor`, and every network
image output becomes a picture through `tensor_to_image`.

Conventions: images are (H, W, 3) uint8 RGB as arrays and (3, h, w) float in [-1, 1] (the
GAN convention) as tensors; labels (H, W) uint8 class indices (255 = void) -> (h, w) int64;
depth (H, W) float32 metres -> (1, h, w); normals (H, W, 3) float32 unit vectors in
OpenCV's camera axes (x right, y down, z forward; 0 = none, `spigan.data.normals`) ->
(3, h, w); instance ids (H, W) uint16 -> (h, w) int64, from which `boundaries`
(`spigan.data.boundaries`) are computed once a sample is cropped.
"""

from __future__ import annotations

import numpy as np
import torch

from spigan.data import io


def image_to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 RGB -> (3, H, W) float32 in [-1, 1]."""
    return torch.from_numpy(rgb.astype(np.float32)).permute(2, 0, 1).div_(127.5).sub_(1.0)


def labels_to_tensor(labels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(labels.astype(np.int64))


def depth_to_tensor(depth: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(depth.astype(np.float32))[None]


def normals_to_tensor(normals: np.ndarray) -> torch.Tensor:
    """(H, W, 3) float32 -> (3, H, W) float32."""
    return torch.from_numpy(normals.astype(np.float32)).permute(2, 0, 1).contiguous()


def instances_to_tensor(ids: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(ids.astype(np.int64))


def tensor_to_image(x: torch.Tensor) -> np.ndarray:
    """(3, h, w) in [-1, 1] -> (h, w, 3) uint8 RGB."""
    return ((x.detach().float().clamp(-1, 1) + 1) * 127.5 + 0.5).byte().permute(1, 2, 0).cpu().numpy()


def network_input(rgb: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """A photo of any size -> (1, 3, h, w) at the network's training size `size` (h, w)."""
    return image_to_tensor(io.resize(rgb, size, nearest=False))[None]


def random_crop(maps: dict[str, torch.Tensor], crop: tuple[int, int], generator: torch.Generator | None = None
                ) -> dict[str, torch.Tensor]:
    """One random (h, w) window, shared by all of a sample's maps (image, labels, depth)."""
    h, w = next(iter(maps.values())).shape[-2:]
    ch, cw = crop
    top = int(torch.randint(0, h - ch + 1, (), generator=generator))
    left = int(torch.randint(0, w - cw + 1, (), generator=generator))
    return {k: v[..., top: top + ch, left: left + cw] for k, v in maps.items()}


def horizontal_flip(maps: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A sample's maps mirrored left to right; normals' x component (pointing right) changes
    sign, as the simulator's mirror cameras render them. (No training augmentation flips
    today; this keeps the convention in one place for the one that will.)"""
    out = {k: v.flip(-1) for k, v in maps.items()}
    if "normals" in out:
        out["normals"] = out["normals"] * torch.tensor([-1.0, 1.0, 1.0]).view(3, 1, 1)
    return out
