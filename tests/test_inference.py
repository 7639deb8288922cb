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


def test_confidence_and_entropy_in_bands_equal_them_at_once():
    from spigan.inference import labels_confidence_entropy

    torch.manual_seed(1)
    logits = torch.randn(1, 5, 6, 9)
    whole = F.interpolate(logits, size=(37, 55), mode="bilinear", align_corners=False)
    p = torch.softmax(whole, 1)
    labels, confidence, entropy = labels_confidence_entropy(logits, (37, 55))
    assert torch.equal(labels, segment_logits(logits, (37, 55)))
    assert torch.allclose(confidence, p.max(1).values, atol=1e-6)
    assert torch.allclose(entropy, -(p * p.log()).sum(1) / torch.log(torch.tensor(5.0)), atol=1e-5)
    banded = labels_confidence_entropy(logits, (37, 55), max_elements=600)
    assert torch.equal(banded[0], labels)
    assert torch.allclose(banded[1], confidence, atol=1e-5) and torch.allclose(banded[2], entropy, atol=1e-5)
