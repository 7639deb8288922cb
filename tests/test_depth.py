"""The privileged target (Eq. 5): depth encoding, its inverse, and the L1 over valid pixels."""

import math

import numpy as np
import pytest
import torch

from spigan import losses
from spigan.depth import decode_depth, encode_depth


def test_depth_encoding_and_l1():
    depth = torch.tensor([0.5, 1.0, 655.35, 10.0, float("nan"), 0.0])
    enc = encode_depth(depth, 655.35)
    assert enc[0].item() == 0.0 and enc[1].item() == 0.0  # clamped at 1 m
    assert enc[2].item() == pytest.approx(1.0)
    assert enc[3].item() == pytest.approx(math.log(10) / math.log(655.35))
    assert enc[4].item() == -1 and enc[5].item() == -1  # invalid: skipped by the L1
    pred = torch.tensor([0.5, 0.5, 0.5, 0.5, 9.0, 9.0])
    expected = (0.5 + 0.5 + 0.5 + abs(0.5 - math.log(10) / math.log(655.35))) / 4
    assert losses.l1_depth(pred, enc).item() == pytest.approx(expected)


def test_decoding_inverts_encoding():
    depth = torch.tensor([1.0, 2.5, 10.0, 80.0, 655.35])
    assert torch.allclose(decode_depth(encode_depth(depth, 655.35), 655.35), depth, rtol=1e-5)
    assert np.allclose(decode_depth(encode_depth(depth, 655.35).numpy(), 655.35), depth.numpy(), rtol=1e-5)
