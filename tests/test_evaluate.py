"""Metrics against confusion matrices and IoUs computed by hand."""

import numpy as np
import pytest

from spigan.evaluate import (
    ConfusionMatrix,
    Evaluator,
    mean_iou,
    negative_transfer_ratio,
)
from spigan.ontology import (
    CATEGORIES_7,
    CLASSES_16,
    IGNORE,
    PROTOCOL_7,
    PROTOCOL_13,
    PROTOCOL_16,
    dataset_protocol,
)


def test_confusion_matrix_by_hand():
    gt = np.array([[0, 0, 1], [1, 2, IGNORE]])
    pred = np.array([[0, 1, 1], [1, 2, 0]])
    cm = ConfusionMatrix(3)
    cm.update(pred, gt)
    # rows: truth, columns: prediction (+ "other" column); the IGNORE pixel is dropped
    expected = np.array([[1, 1, 0, 0], [0, 2, 0, 0], [0, 0, 1, 0]])
    np.testing.assert_array_equal(cm.matrix, expected)
    # IoU: class 0: 1 / (2 + 1 - 1) = 0.5; class 1: 2 / (2 + 3 - 2) = 2/3; class 2: 1
    np.testing.assert_allclose(cm.iou(), [0.5, 2 / 3, 1.0])
    assert mean_iou(cm.iou()) == pytest.approx((0.5 + 2 / 3 + 1) / 3)
    assert cm.pixel_accuracy() == pytest.approx(4 / 5)


def test_absent_class_is_nan_and_left_out_of_the_mean():
    cm = ConfusionMatrix(4)
    cm.update(np.array([0, 0, 1]), np.array([0, 1, 1]))
    iou = cm.iou()
    assert np.isnan(iou[2]) and np.isnan(iou[3])  # no truth, no prediction: n/a
    assert mean_iou(iou) == pytest.approx((0.5 + 0.5) / 2)
    # predicted but never true: IoU 0, counted in the mean
    cm.update(np.array([3]), np.array([0]))
    assert cm.iou()[3] == 0.0


def test_prediction_outside_the_classes_counts_as_a_miss():
    cm = ConfusionMatrix(2)
    cm.update(np.array([7, 0]), np.array([0, 0]))
    np.testing.assert_array_equal(cm.matrix, [[1, 0, 1], [0, 0, 0]])
    assert cm.iou()[0] == pytest.approx(0.5)


def test_label_outside_the_classes_is_an_error():
    with pytest.raises(ValueError, match="label id 5"):
        ConfusionMatrix(3).update(np.array([0]), np.array([5]))


def test_split_is_one_matrix_not_a_mean_of_images():
    ev = Evaluator(dataset_protocol("toy", ("a", "b")))
    ev.add(np.array([0, 0, 0, 0]), np.array([0, 0, 0, 1]))  # image 1: a 3/4, b 0/1
    ev.add(np.array([1]), np.array([1]))  # image 2: b 1/1
    s = ev.scores()
    # whole split: a: 3 / (3 + 4 - 3) = 0.75; b: 1 / (2 + 1 - 1) = 0.5
    np.testing.assert_allclose(s.iou, [0.75, 0.5])
    assert s.miou == pytest.approx(0.625)
    # per image: image 1 mIoU = (0.75 + 0) / 2, image 2 = 1 (a is n/a there)
    np.testing.assert_allclose(s.per_image_miou, [0.375, 1.0])


def test_13_class_protocol_averages_13_of_the_16_ious():
    ev = Evaluator(PROTOCOL_13)
    gt = np.arange(16).repeat(2)
    pred = gt.copy()
    pred[::2] = 3  # half of every class predicted as wall
    ev.add(pred, gt)
    s = ev.scores()
    ious16 = Evaluator(PROTOCOL_16)
    ious16.add(pred, gt)
    full = ious16.scores().iou
    keep = [i for i, c in enumerate(CLASSES_16) if c not in ("wall", "fence", "pole")]
    assert s.miou == pytest.approx(full[keep].mean())
    assert len(keep) == 13




def test_7_category_scores_merge_classes():
    ev = Evaluator(PROTOCOL_7)
    gt = np.array([0, 1, 12, 13])  # road, sidewalk, car, bus
    pred = np.array([1, 0, 13, 12])  # swapped within each category: all correct at category level
    ev.add(pred, gt)
    s = ev.scores()
    assert s.iou[CATEGORIES_7.index("flat")] == 1.0 and s.iou[CATEGORIES_7.index("vehicle")] == 1.0
    assert s.miou == 1.0 and s.protocol == "7-category"


def test_negative_transfer_ratio_by_hand():
    model = np.array([0.5, 0.4, np.nan, 0.9, 0.2])
    baseline = np.array([0.6, 0.4, 0.5, 0.1, 0.3])
    # defined on images 0, 1, 3, 4; lower on 0 and 4; the tie on 1 is not negative
    assert negative_transfer_ratio(model, baseline) == pytest.approx(2 / 4)
    with pytest.raises(ValueError):
        negative_transfer_ratio(model[:3], baseline)
