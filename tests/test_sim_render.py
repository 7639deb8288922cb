"""The simulator's contract: determinism, label and depth validity, class coverage, shared
geometry between renderers, camera distributions and the `sim` renderer's knobs."""

import math

import numpy as np
import pytest

from spigan.ontology import CLASS_INDEX, CLASSES_16, IGNORE
from spigan.sim import (
    DEGENERATE_SHARE,
    SKY_DEPTH,
    SimKnobs,
    frame_streams,
    generate_scene,
    render_frame,
    render_pair,
    sample_camera,
)

KNOBS = [SimKnobs(), SimKnobs(camera=0.0), SimKnobs(camera=0.5, randomization=1.0, degenerate=True)]


@pytest.mark.parametrize("domain, knobs", [("sim", k) for k in KNOBS] + [("photo", None)])
def test_frames_are_deterministic(domain, knobs):
    a = render_frame(3, 7, 48, 96, domain, knobs)
    b = render_frame(3, 7, 48, 96, domain, knobs)
    assert a.rgb.tobytes() == b.rgb.tobytes()
    assert a.labels.tobytes() == b.labels.tobytes()
    assert a.depth.tobytes() == b.depth.tobytes()
    assert a.camera == b.camera
    c = render_frame(3, 8, 48, 96, domain, knobs)
    assert c.rgb.tobytes() != a.rgb.tobytes()


def test_knobs_change_sim_frames_but_not_photo_frames():
    frames = [render_frame(3, 7, 48, 96, "sim", k) for k in KNOBS]
    assert len({f.rgb.tobytes() for f in frames}) == len(KNOBS)
    assert render_frame(3, 7, 48, 96, "photo", KNOBS[2]).rgb.tobytes() == render_frame(3, 7, 48, 96, "photo").rgb.tobytes()


@pytest.mark.parametrize("domain, knobs", [("sim", k) for k in KNOBS] + [("photo", None)])
def test_frame_types_labels_and_depth(domain, knobs):
    for index in range(5):
        f = render_frame(11, index, 40, 80, domain, knobs)
        assert f.rgb.shape == (40, 80, 3) and f.rgb.dtype == np.uint8
        assert f.labels.shape == (40, 80) and f.labels.dtype == np.uint8
        assert f.depth.shape == (40, 80) and f.depth.dtype == np.float32
        assert set(np.unique(f.labels)) <= set(range(len(CLASSES_16))) | {IGNORE}
        assert np.isfinite(f.depth).all() and (f.depth > 0).all() and (f.depth <= SKY_DEPTH).all()
        sky = f.labels == CLASS_INDEX["sky"]
        np.testing.assert_allclose(f.depth[sky], np.float32(SKY_DEPTH))
        assert (f.depth[~sky] < SKY_DEPTH).mean() > 0.99  # only far road can reach the clip


def test_labels_and_depth_are_exact_ray_casts():
    """Labels and depth are the nearest primitive along each pixel's ray, whatever the
    look: re-cast here independently of the renderer, they agree pixel for pixel."""
    from spigan.sim import sim_view
    from spigan.sim.casting import cast_primary

    for knobs in KNOBS:
        scene_rng, camera_rng, _, clutter_rng = frame_streams(4, 2, "sim")
        scene, camera, _ = sim_view(generate_scene(scene_rng), camera_rng, clutter_rng, 30, 40, knobs)
        prims = scene.visible_primitives(camera)
        depth, index, _ = cast_primary(camera, prims, 30, 40)
        frame = render_frame(4, 2, 30, 40, "sim", knobs)
        labels = np.where(index >= 0, prims.label[index], CLASS_INDEX["sky"])
        np.testing.assert_array_equal(frame.labels, labels)
        np.testing.assert_array_equal(frame.depth, np.where(index >= 0, np.minimum(depth, SKY_DEPTH), SKY_DEPTH)
                                      .astype(np.float32))
        assert frame.camera == camera


@pytest.mark.parametrize("domain", ["sim", "photo"])
def test_all_16_classes_appear_in_200_frames(domain):
    seen = np.zeros(256, dtype=bool)
    for index in range(200):
        seen[np.unique(render_frame(5, index, 32, 64, domain).labels)] = True
    missing = [c for i, c in enumerate(CLASSES_16) if not seen[i]]
    assert not missing, f"classes never rendered in 200 {domain} frames: {missing}"


def test_renderers_share_geometry_but_not_pixels():
    sim, photo = render_pair(2, 4, 48, 96)
    assert sim.camera == photo.camera
    np.testing.assert_array_equal(sim.labels, photo.labels)
    np.testing.assert_array_equal(sim.depth, photo.depth)
    assert np.abs(sim.rgb.astype(int) - photo.rgb.astype(int)).mean() > 10


def cameras(domain, n=300, vehicle=1.0):
    out = []
    for i in range(n):
        scene_rng, cam_rng, _, _ = frame_streams(0, i, domain)
        out.append(sample_camera(generate_scene(scene_rng).layout, cam_rng, domain, vehicle))
    return out


def test_camera_distributions():
    photo, random_views, vehicle = cameras("photo", 200), cameras("sim", 200, 0.0), cameras("sim", 200, 1.0)
    # photo: a car-mounted camera, narrow ranges
    assert all(1.3 <= c.y <= 1.6 and -6 <= math.degrees(c.pitch) <= 0 and 60 <= math.degrees(c.hfov) <= 70
               and abs(math.degrees(c.yaw)) <= 4 and c.roll == 0 for c in photo)
    # sim, camera 0: SYNTHIA-RAND's wide ranges, well beyond the photo camera's
    heights, pitches, fovs = (np.array(v) for v in zip(*[(c.y, c.pitch, c.hfov) for c in random_views]))
    assert heights.max() - heights.min() > 3.5
    assert math.degrees(pitches.max() - pitches.min()) > 20
    assert math.degrees(fovs.max() - fovs.min()) > 30
    # sim, camera 1: vehicle-mounted: 1-2 m high, small pitch and roll, looking down the road
    assert all(1.0 <= c.y <= 2.0 and -8 <= math.degrees(c.pitch) <= 2 and abs(math.degrees(c.yaw)) < 15
               and abs(math.degrees(c.roll)) < 8 for c in vehicle)
    assert np.std([c.roll for c in vehicle]) > 0


def test_mirror_cameras_see_the_mirror_image_of_the_street():
    from dataclasses import replace

    from spigan.sim import sim_view
    from spigan.sim.hits import labels_and_depth, trace

    scene_rng, camera_rng, _, clutter_rng = frame_streams(3, 1, "sim")
    scene, camera, _ = sim_view(generate_scene(scene_rng), camera_rng, clutter_rng, 24, 32, SimKnobs())
    labels, depth = labels_and_depth(trace(scene, replace(camera, mirror=False), 24, 32))
    mirrored, mirrored_depth = labels_and_depth(trace(scene, replace(camera, mirror=True), 24, 32))
    np.testing.assert_array_equal(mirrored, labels[:, ::-1])
    np.testing.assert_array_equal(mirrored_depth, depth[:, ::-1])
    share = np.mean([c.mirror for c in cameras("sim", 200)])
    assert 0.35 < share < 0.65 and not any(c.mirror for c in cameras("photo", 50))


def test_camera_knob_interpolates_between_the_two_distributions():
    for a, b, half in zip(cameras("sim", 50, 0.0), cameras("sim", 50, 1.0), cameras("sim", 50, 0.5)):
        for key in ("x", "y", "z", "yaw", "pitch", "hfov", "roll"):
            assert getattr(half, key) == pytest.approx((getattr(a, key) + getattr(b, key)) / 2)


def largest_object_share(knobs, n=60):
    from spigan.sim import sim_view

    shares = []
    for i in range(n):
        scene_rng, camera_rng, _, clutter_rng = frame_streams(1, i, "sim")
        _, _, hits = sim_view(generate_scene(scene_rng), camera_rng, clutter_rng, 24, 32, knobs)
        objects = hits.table.object_id[hits.pid]
        shares.append(np.bincount(objects).max() / hits.depth.size if objects.size else 0.0)
    return np.array(shares)


def test_degenerate_frames_are_drawn_again_unless_asked_for():
    assert (largest_object_share(SimKnobs(camera=0.0)) <= DEGENERATE_SHARE).all()
    assert (largest_object_share(SimKnobs(camera=0.0, degenerate=True)) > DEGENERATE_SHARE).any()


def test_randomization_adds_void_distractors_and_keeps_the_street():
    plain, randomized = SimKnobs(), SimKnobs(randomization=1.0)
    void = same = 0.0
    for i in range(20):
        a, b = render_frame(6, i, 32, 64, "sim", plain), render_frame(6, i, 32, 64, "sim", randomized)
        if a.camera == b.camera:  # no redraw for a filled view: the same street, plus distractors
            keep = b.labels != IGNORE
            same += (a.labels[keep] == b.labels[keep]).mean() / 20
        void += (b.labels == IGNORE).mean() / 20
        assert (a.labels != IGNORE).all()
    assert void > 0.01 and same > 0.9


def test_sim_frames_look_like_streets():
    """Class frequencies like street scenes' at the default knobs: road, sidewalk, building,
    vegetation, sky and car dominate; people, poles and signs are present."""
    counts = np.zeros(256)
    for i in range(100):
        counts += np.bincount(render_frame(8, i, 32, 64, "sim").labels.ravel(), minlength=256)
    share = dict(zip(CLASSES_16, counts[:16] / counts.sum()))
    for name in ("road", "sidewalk", "building", "vegetation", "sky", "car"):
        assert share[name] > 0.02, (name, share)
    assert share["road"] + share["building"] + share["sky"] + share["vegetation"] > 0.6, share
    for name in ("person", "pole", "traffic sign"):
        assert share[name] > 0.0005, (name, share)


def test_sim_render_names_a_module_and_render_frame_stays_public():
    import types

    import spigan.sim
    import spigan.sim.render

    assert isinstance(spigan.sim.render, types.ModuleType)  # not a function shadowing it
    assert spigan.sim.render.__name__ == "spigan.sim.render" and callable(spigan.sim.render_frame)


@pytest.mark.parametrize("domain", ["sim", "photo"])
def test_a_frames_pixels_follow_from_its_draws_alone(domain):
    """Every random value of the renderers is drawn before shading: the same scene, camera
    and draws give the same pixels, whatever else was drawn from the stream since, and other
    draws give other pixels."""
    from spigan.sim import render_view, sim_view
    from spigan.sim.draws import draw_photo, draw_sim

    knobs = SimKnobs(randomization=0.5)
    scene_rng, camera_rng, effects_rng, clutter_rng = frame_streams(8, 1, "sim")
    scene, camera, hits = sim_view(generate_scene(scene_rng), camera_rng, clutter_rng, 24, 40, knobs)

    def draw(rng):
        return draw_sim(rng, knobs.randomization) if domain == "sim" else draw_photo(rng, 24, 40)

    draws = draw(effects_rng)
    first = render_view(scene, camera, 24, 40, draws, knobs, hits)
    effects_rng.random(1000)  # a stream moved on: no shading code may read it
    again = render_view(scene, camera, 24, 40, draws, knobs, hits)
    np.testing.assert_array_equal(first.rgb, again.rgb)
    other = render_view(scene, camera, 24, 40, draw(np.random.default_rng(1)), knobs, hits)
    assert not np.array_equal(first.rgb, other.rgb)
    np.testing.assert_array_equal(first.labels, other.labels)
