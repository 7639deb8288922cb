"""Instance boundaries: a privileged map computed from instance ids at training resolution."""

from __future__ import annotations

import torch


def instance_boundaries(ids: torch.Tensor) -> torch.Tensor:
    """(h, w) integer instance ids -> (1, h, w) float32 in {0, 1}: 1 where one of a pixel's
    4-neighbours (above, below, left, right) inside the map has another id.

    Both pixels on either side of an edge are marked, so a boundary is one pixel wide on
    each side. Computed after the sample's resize, crop and flip (`Samples`), so it is one
    pixel at training resolution and the crop's border is no boundary. Stuff (id 0: in the
    simulator the sky, road and sidewalks; in SYNTHIA everything but dynamic objects) is
    one region like any other id: edges between two stuff classes are no boundaries."""
    if ids.dim() != 2:
        raise ValueError(f"expected (h, w) instance ids, got shape {tuple(ids.shape)}")
    vertical = ids[1:, :] != ids[:-1, :]  # (h - 1, w): rows k and k + 1 differ
    horizontal = ids[:, 1:] != ids[:, :-1]  # (h, w - 1): columns k and k + 1 differ
    edge = torch.zeros(ids.shape, dtype=torch.bool, device=ids.device)
    edge[1:, :] |= vertical
    edge[:-1, :] |= vertical
    edge[:, 1:] |= horizontal
    edge[:, :-1] |= horizontal
    return edge.float()[None]
