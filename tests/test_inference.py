"""Segmenting images and scoring splits: the upsampling rule, also for photos too large to
upsample at once."""

import torch
import torch.nn.functional as F

from spigan.inference import segment_logits


def test_banded_upsampling_equals_bilinear_then_argmax():
    torch.manual_seed(0)
    for h, w, H, W in [(5, 7, 40, 70), (12, 16, 97, 129), (16, 20, 49, 103), (8, 8, 8, 200)]:
        logits = torch.randn(2, 6, h, w)
        whole = F.interpolate(logits, size=(H, W), mode="bilinear", align_corners=False).argmax(1)
        assert torch.equal(segment_logits(logits, (H, W), max_elements=1000), whole)
        assert torch.equal(segment_logits(logits, (H, W)), whole)


def test_same_size_is_a_plain_argmax():
    logits = torch.randn(1, 3, 4, 5)
    assert torch.equal(segment_logits(logits, (4, 5)), logits.argmax(1))
