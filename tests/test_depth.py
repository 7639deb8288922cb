"""The privileged target (Eq. 5): depth encoding, its inverse, and the L1 over valid pixels."""

import math

import numpy as np
import pytest
import torch

from spigan import losses
from spigan.depth import (
    DEPTH_TARGETS,
    INVALID,
    decode_depth,
    depth_prediction,
    encode_depth,
)


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


@pytest.mark.parametrize("target", DEPTH_TARGETS)
def test_each_target_round_trips_through_p_output_and_skips_invalid_pixels(target):
    depth = torch.tensor([1.0, 2.5, 10.0, 80.0, 655.35])
    encoded = encode_depth(depth, 655.35, target)
    # A P that predicts the target exactly: its raw output, through the target's head.
    raw = encoded / 655.35 if target == "metres" else encoded
    assert torch.allclose(depth_prediction(raw, 655.35, target), encoded)
    assert torch.allclose(decode_depth(raw, 655.35, target), depth, rtol=1e-5)
    assert np.allclose(decode_depth(raw.numpy(), 655.35, target), depth.numpy(), rtol=1e-5)
    invalid = encode_depth(torch.tensor([float("nan"), 0.0, -3.0, float("inf")]), 655.35, target)
    assert (invalid == INVALID).all()
    assert losses.l1_depth(torch.zeros(4), invalid).item() == 0.0  # no valid pixel: nothing to learn


def test_targets_by_hand():
    z = torch.tensor([0.5, 4.0, 1000.0])  # below 1 m and beyond the range are clamped
    assert encode_depth(z, 655.35, "metres").tolist() == pytest.approx([1.0, 4.0, 655.35])
    assert encode_depth(z, 655.35, "inverse").tolist() == pytest.approx([1.0, 0.25, 1 / 655.35])
    assert depth_prediction(torch.tensor([0.5]), 655.35, "metres").item() == pytest.approx(327.675)
    with pytest.raises(ValueError, match="unknown depth target"):
        encode_depth(z, 655.35, "feet")


def test_the_option_is_validated():
    from spigan.config import load_config
    from spigan.errors import SpiganError

    assert load_config(None, []).loss.depth_target == "metres"
    assert load_config(None, ["loss.depth_target=inverse"]).loss.depth_target == "inverse"
    with pytest.raises(SpiganError, match="loss.depth_target: 'feet' is not one of log, metres, inverse"):
        load_config(None, ["loss.depth_target=feet"])


@pytest.mark.parametrize("target", DEPTH_TARGETS)
def test_far_depth_is_clamped_or_skipped(target):
    # The simulator's sky: 655.35 m stored as float32 (655.34998), and a farther value.
    z = torch.tensor([3.0, 655.35, 900.0, 654.0], dtype=torch.float32)
    clamped, skipped = encode_depth(z, 655.35, target, "clamp"), encode_depth(z, 655.35, target, "skip")
    assert (clamped >= 0).all()
    assert torch.equal(skipped[[0, 3]], clamped[[0, 3]])  # nearer than max_depth: unchanged
    assert (skipped[1:3] == INVALID).all()
    # With a shorter range, everything beyond it is skipped too.
    assert (encode_depth(z, 80.0, target, "skip") >= 0).tolist() == [True, False, False, False]
    with pytest.raises(ValueError, match="unknown depth_far"):
        encode_depth(z, 655.35, target, "drop")


def test_skipping_the_sky_removes_it_from_the_l1():
    z = torch.tensor([2.0, 655.35])
    prediction = torch.tensor([3.0, 10.0])  # P off by 1 m on the street, by 645 m on the sky
    assert losses.l1_depth(prediction, encode_depth(z, 655.35, "metres", "clamp")).item() == pytest.approx(323.175,
                                                                                                          rel=1e-5)
    assert losses.l1_depth(prediction, encode_depth(z, 655.35, "metres", "skip")).item() == pytest.approx(1.0)


def test_depth_far_option_is_validated():
    from spigan.config import load_config
    from spigan.errors import SpiganError

    assert load_config(None, []).loss.depth_far == "clamp"
    assert load_config(None, ["loss.depth_far=skip"]).loss.depth_far == "skip"
    with pytest.raises(SpiganError, match="loss.depth_far: 'drop' is not one of clamp, skip"):
        load_config(None, ["loss.depth_far=drop"])
