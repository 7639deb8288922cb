"""The simulator's contract: determinism, label and depth validity, class coverage, shared
geometry between renderers, camera distributions, cached splits."""

import math

import numpy as np
import pytest

from spigan.ontology import CLASS_INDEX, CLASSES_16, IGNORE
from spigan.sim import (
    SKY_DEPTH,
    frame_streams,
    generate_scene,
    render_frame,
    render_pair,
    sample_camera,
)


@pytest.mark.parametrize("domain", ["sim", "photo"])
def test_frames_are_deterministic(domain):
    a = render_frame(3, 7, 48, 96, domain)
    b = render_frame(3, 7, 48, 96, domain)
    assert a.rgb.tobytes() == b.rgb.tobytes()
    assert a.labels.tobytes() == b.labels.tobytes()
    assert a.depth.tobytes() == b.depth.tobytes()
    assert a.camera == b.camera
    c = render_frame(3, 8, 48, 96, domain)
    assert c.rgb.tobytes() != a.rgb.tobytes()


@pytest.mark.parametrize("domain", ["sim", "photo"])
def test_frame_types_labels_and_depth(domain):
    for index in range(5):
        f = render_frame(11, index, 40, 80, domain)
        assert f.rgb.shape == (40, 80, 3) and f.rgb.dtype == np.uint8
        assert f.labels.shape == (40, 80) and f.labels.dtype == np.uint8
        assert f.depth.shape == (40, 80) and f.depth.dtype == np.float32
        assert set(np.unique(f.labels)) <= set(range(len(CLASSES_16))) | {IGNORE}
        assert np.isfinite(f.depth).all() and (f.depth > 0).all() and (f.depth <= SKY_DEPTH).all()
        sky = f.labels == CLASS_INDEX["sky"]
        np.testing.assert_allclose(f.depth[sky], np.float32(SKY_DEPTH))
        assert (f.depth[~sky] < SKY_DEPTH).mean() > 0.99  # only far road can reach the clip


@pytest.mark.parametrize("domain", ["sim", "photo"])
def test_all_16_classes_appear_in_200_frames(domain):
    seen = np.zeros(256, dtype=bool)
    for index in range(200):
        seen[np.unique(render_frame(5, index, 64, 128, domain).labels)] = True
    missing = [c for i, c in enumerate(CLASSES_16) if not seen[i]]
    assert not missing, f"classes never rendered in 200 {domain} frames: {missing}"


def test_renderers_share_geometry_but_not_pixels():
    sim, photo = render_pair(2, 4, 48, 96)
    assert sim.camera == photo.camera
    np.testing.assert_array_equal(sim.labels, photo.labels)
    np.testing.assert_array_equal(sim.depth, photo.depth)
    assert np.abs(sim.rgb.astype(int) - photo.rgb.astype(int)).mean() > 10


def test_camera_distributions():
    def draw(domain, n=300):
        cams = []
        for i in range(n):
            scene_rng, cam_rng, _ = frame_streams(0, i, domain)
            cams.append(sample_camera(generate_scene(scene_rng).layout, cam_rng, domain))
        return cams

    photo, sim = draw("photo"), draw("sim")
    # photo: a car-mounted camera, narrow ranges
    assert all(1.3 <= c.y <= 1.6 and -6 <= math.degrees(c.pitch) <= 0 and 60 <= math.degrees(c.hfov) <= 70
               and abs(math.degrees(c.yaw)) <= 4 for c in photo)
    # sim: wide ranges, well beyond the photo camera's
    heights, pitches, fovs = (np.array(v) for v in zip(*[(c.y, c.pitch, c.hfov) for c in sim]))
    assert heights.max() - heights.min() > 3.5
    assert math.degrees(pitches.max() - pitches.min()) > 20
    assert math.degrees(fovs.max() - fovs.min()) > 30








