"""Privileged information beside depth, on the data side: the simulator's normals and
instance ids against the analytic geometry of its primitives, instance boundaries by hand,
the transforms' conventions, SYNTHIA's instance channel and normals derived from its depth,
the export's encodings, the frame cache, and the sample-key contract."""

import math

import numpy as np
import pytest
import torch

from spigan.data import io
from spigan.data.boundaries import instance_boundaries
from spigan.data.datasets import Samples, SimSource
from spigan.data.normals import Intrinsics, normals_from_depth
from spigan.data.real import SYNTHIA_CAMERA, real_frames
from spigan.data.transforms import horizontal_flip, normals_to_tensor
from spigan.errors import SpiganError
from spigan.ontology import CLASS_INDEX as C
from spigan.sim import SimKnobs, frame_streams, generate_scene, render_frame, sim_view
from spigan.sim.dataset import SimFrames
from spigan.sim.casting import cast_primary
from spigan.sim.geometry import Box, Camera, Ellipsoid, Ground
from spigan.sim.hits import camera_normals, instance_ids, trace
from spigan.sim.scene import Layout, Scene
from spigan.sim.table import GROUND, PrimitiveTable

KNOBS = [SimKnobs(), SimKnobs(camera=0.0), SimKnobs(camera=0.5, randomization=1.0, degenerate=True)]


def unit_or_zero(n: np.ndarray, atol: float = 1e-5) -> bool:
    length = np.sqrt((np.asarray(n, np.float64) ** 2).sum(-1))
    return bool(np.all((length < 1e-12) | (np.abs(length - 1) < atol)))


# ---------------------------------------------------------------------------------------
# The simulator: normals and instance ids, against the geometry
# ---------------------------------------------------------------------------------------


def toy_scene() -> tuple[Scene, Camera]:
    """A level camera 1.5 m above the road facing +z, a car of two boxes (one object, id 7)
    turned by 0.3 rad, a person's sphere (id 9) and the road (stuff)."""
    layout = Layout(road_half=5, lane_width=3, lanes_per_side=1, parking_width=2, sidewalk_width=3, curb_height=0.15)
    prims = [Ground(label=C["road"], material="asphalt", color=(0.5,) * 3, object_id=1,
                    style={"lane_width": 3, "lanes": 1, "road_half": 5, "zebra_z": float("nan")}),
             Box(label=C["car"], material="car_paint", color=(0.5,) * 3, object_id=7, center=(-1.5, 1.0, 8.0), yaw=0.3,
                 half=(1.0, 1.0, 1.0)),
             Box(label=C["car"], material="car_cabin", color=(0.5,) * 3, object_id=7, center=(-1.5, 2.3, 8.0), yaw=0.3,
                 half=(0.6, 0.3, 0.6)),
             Ellipsoid(label=C["person"], material="cloth", color=(0.5,) * 3, object_id=9, center=(1.5, 1.5, 6.0),
                       radii=(0.8, 0.8, 0.8))]
    scene = Scene(layout, PrimitiveTable.of(prims), np.array([0.0, 1.0, 0.0]))
    return scene, Camera(x=0.0, y=1.5, z=0.0, yaw=0.0, pitch=0.0, hfov=math.radians(60))


def analytic_normal(prim, p: np.ndarray) -> np.ndarray:
    """The world normal of `prim` at surface point p, from its shape alone."""
    if isinstance(prim, Ground):
        return np.array([0.0, 1.0, 0.0])
    if isinstance(prim, Ellipsoid):
        return (p - prim.center) / prim.radii[0]  # a sphere
    c, s = math.cos(prim.yaw), math.sin(prim.yaw)
    R = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])  # local -> world
    q = R.T @ (p - prim.center) / prim.half
    axis = int(np.argmax(np.abs(q)))
    return R @ (np.eye(3)[axis] * np.sign(q[axis]))


def test_normals_are_the_analytic_normals_of_the_primitives_hit():
    scene, camera = toy_scene()
    h, w = 32, 64
    hits = trace(scene, camera, h, w)
    normals = camera_normals(hits)
    prims = scene.visible_primitives(camera)
    depth, index, rays = cast_primary(camera, prims, h, w)  # cast again, apart from the renderer
    kinds = set()
    for r, c in zip(*np.nonzero(index >= 0)):
        prim = prims.shapes[index[r, c]]
        n = analytic_normal(prim, camera.position + depth[r, c] * rays[r, c])
        # A level camera facing +z: camera axes are (x, -y, z) of the world's.
        np.testing.assert_allclose(normals[r, c], [n[0], -n[1], n[2]], atol=1e-6)
        kinds.add(type(prim).__name__)
    assert kinds == {"Ground", "Box", "Ellipsoid"}
    assert (normals[index < 0] == 0).all()  # the sky
    ray = rays / np.linalg.norm(rays, axis=-1, keepdims=True)
    cam_ray = ray * [1, -1, 1]
    assert ((normals * cam_ray).sum(-1)[index >= 0] < 0).all()  # facing the camera


@pytest.mark.parametrize("knobs", KNOBS)
def test_the_ground_normal_follows_from_the_camera_pitch_and_roll(knobs):
    seen = 0
    for index in range(4):
        scene_rng, camera_rng, _, clutter_rng = frame_streams(6, index, "sim")
        scene, camera, hits = sim_view(generate_scene(scene_rng), camera_rng, clutter_rng, 24, 48, knobs)
        normals = camera_normals(hits)
        ground = np.zeros(24 * 48, bool)
        ground[hits.flat[hits.table.kind[hits.pid] == GROUND]] = True
        ground &= hits.depth.ravel() < 655.35
        cp, sp, cr, sr = math.cos(camera.pitch), math.sin(camera.pitch), math.cos(camera.roll), math.sin(camera.roll)
        expected = np.array([-sr * cp * (-1 if camera.mirror else 1), -cr * cp, sp])
        seen += ground.sum()
        np.testing.assert_allclose(normals.reshape(-1, 3)[ground], np.broadcast_to(expected, (ground.sum(), 3)),
                                   atol=1e-6)
    assert seen > 100


def test_instance_ids_name_the_object_hit_and_stuff_is_zero():
    scene, camera = toy_scene()
    ids = instance_ids(trace(scene, camera, 32, 64))
    prims = scene.visible_primitives(camera)
    _, index, _ = cast_primary(camera, prims, 32, 64)
    object_of = prims.object_id[index]
    kind = np.array([type(p).__name__ for p in prims.shapes])[index]
    box = index >= 0
    box[box] &= kind[box] == "Box"
    assert ids.dtype == np.uint16
    assert (ids[box] == 7).all() and box.sum() > 20  # both boxes of the car: one id
    sphere = (index >= 0) & (kind == "Ellipsoid")
    assert (ids[sphere] == 9).all() and sphere.any()
    assert (ids[(index < 0) | (kind == "Ground")] == 0).all()  # sky and road: stuff
    assert set(np.unique(object_of[box])) == {7}


@pytest.mark.parametrize("knobs", KNOBS)
def test_rendered_instance_ids_are_exact(knobs):
    """Each object's pixels carry its object_id; stuff (road, sidewalk, sky) carries 0."""
    scene_rng, camera_rng, _, clutter_rng = frame_streams(4, 2, "sim")
    scene, camera, _ = sim_view(generate_scene(scene_rng), camera_rng, clutter_rng, 30, 40, knobs)
    prims = scene.visible_primitives(camera)
    _, index, _ = cast_primary(camera, prims, 30, 40)
    stuff = np.isin(prims.label, (C["road"], C["sidewalk"]))[index] | (index < 0)
    expected = np.where(stuff, 0, prims.object_id[index])
    frame = render_frame(4, 2, 30, 40, "sim", knobs)
    np.testing.assert_array_equal(frame.instances, expected)
    assert len(np.unique(frame.instances)) > 3


def test_mirror_cameras_mirror_normals_as_a_flip_does():
    from dataclasses import replace

    scene_rng, camera_rng, _, clutter_rng = frame_streams(3, 1, "sim")
    scene, camera, _ = sim_view(generate_scene(scene_rng), camera_rng, clutter_rng, 24, 32, SimKnobs())
    plain = camera_normals(trace(scene, replace(camera, mirror=False), 24, 32))
    mirrored = camera_normals(trace(scene, replace(camera, mirror=True), 24, 32))
    np.testing.assert_allclose(mirrored, plain[:, ::-1] * [-1, 1, 1], atol=1e-6)
    flipped = horizontal_flip({"normals": normals_to_tensor(plain)})["normals"]
    torch.testing.assert_close(flipped, normals_to_tensor(mirrored), atol=1e-6, rtol=0)


def test_normals_derived_from_simulator_depth_agree_with_the_rendered_ones():
    """The depth-to-normals method, on the simulator's depth with its camera, against the
    exact normals: the conventions (axes, orientation) agree, and so do the values, away
    from objects' edges (within the method's 3-pixel reach of another object or class,
    tangents straddle two surfaces; box creases remain inside objects)."""
    angles, inside = [], []
    for index in range(3):
        frame = render_frame(2, index, 96, 192, "sim")
        f = frame.camera.focal(192)
        camera = Intrinsics(f, f, 192 / 2 - 0.5, 96 / 2 - 0.5, 192, 96)  # rays through pixel centres
        derived = normals_from_depth(frame.depth, camera)
        assert not (derived.any(-1) & ~frame.normals.any(-1)).any()  # none where the sky is
        both = derived.any(-1) & frame.normals.any(-1)
        assert both.mean() > 0.8
        cos = (derived * frame.normals).sum(-1)
        angles.append(np.degrees(np.arccos(np.clip(cos[both], -1, 1))))
        key = np.pad(frame.instances.astype(np.int64) * 256 + frame.labels, 3, mode="edge")
        window = np.lib.stride_tricks.sliding_window_view(key, (7, 7))
        interior = (window.min((-2, -1)) == window.max((-2, -1)))[both]
        inside.append(angles[-1][interior])
    angles, inside = np.concatenate(angles), np.concatenate(inside)
    assert np.median(angles) < 0.5 and np.mean(angles < 10) > 0.75
    assert inside.size > 10000 and np.mean(inside < 10) > 0.95


# ---------------------------------------------------------------------------------------
# Boundaries, transforms and the sample contract
# ---------------------------------------------------------------------------------------


def test_boundaries_by_hand():
    ids = torch.tensor([[0, 0, 1, 1, 1],
                        [0, 0, 1, 1, 1],
                        [2, 2, 2, 1, 1],
                        [2, 2, 2, 1, 1]])
    expected = torch.tensor([[0, 1, 1, 0, 0],
                             [1, 1, 1, 0, 0],
                             [1, 1, 1, 1, 0],
                             [0, 0, 1, 1, 0]], dtype=torch.float32)
    out = instance_boundaries(ids)
    assert out.shape == (1, 4, 5) and out.dtype == torch.float32
    torch.testing.assert_close(out[0], expected)
    assert instance_boundaries(torch.full((3, 4), 5)).sum() == 0


class ListSource:
    def __init__(self, frames):
        self.frames = frames

    def __len__(self):
        return len(self.frames)

    def __getitem__(self, i):
        return self.frames[i]


def test_boundaries_are_drawn_after_the_crop():
    ids = np.zeros((8, 8), np.uint16)
    ids[:, 4:] = 3  # an edge between columns 3 and 4
    image = np.zeros((8, 8, 3), np.uint8)
    image[..., 0] = np.arange(8) * 10  # tells where a crop starts
    samples = Samples(ListSource([{"image": image, "instances": ids}]), crop=(8, 4), keys=("image", "boundaries"))
    starts = set()
    for seed in range(40):
        out = samples[(0, seed)]
        assert list(out) == ["image", "boundaries"]
        left = round(float(out["image"][0, 0, 0] + 1) * 127.5 / 10)
        starts.add(left)
        # Boundaries of the crop itself: at column 0 the edge lies just outside, and the
        # crop's border is no boundary (the whole map's column 3 is one).
        expected = torch.zeros(8, 4)
        if 0 < 4 - left < 4:
            expected[:, 3 - left: 5 - left] = 1
        torch.testing.assert_close(out["boundaries"][0], expected)
    assert starts == {0, 1, 2, 3, 4}
    assert instance_boundaries(torch.from_numpy(ids.astype(np.int64)))[0, :, 3].eq(1).all()


def test_sample_keys_shapes_dtypes_and_conventions():
    source = SimSource(SimFrames("sim", "train", 2, 16, 32))
    keys = ("image", "labels", "depth", "normals", "boundaries")
    out = Samples(source, (16, 16), keys)[(1, 7)]
    assert list(out) == list(keys)
    assert out["normals"].shape == (3, 16, 16) and out["normals"].dtype == torch.float32
    assert out["boundaries"].shape == (1, 16, 16) and out["boundaries"].dtype == torch.float32
    assert set(out["boundaries"].unique().tolist()) <= {0.0, 1.0}
    assert unit_or_zero(out["normals"].permute(1, 2, 0).numpy())
    sky = out["labels"] == C["sky"]
    assert (out["normals"][:, sky] == 0).all()
    # The same crop whatever else is asked for; the old keys read as before.
    plain = Samples(source, (16, 16))[(1, 7)]
    assert list(plain) == ["image", "labels", "depth"]
    for k in plain:
        torch.testing.assert_close(plain[k], out[k])
    with pytest.raises(SpiganError, match="sample key 'normal'"):
        Samples(source, None, ("image", "normal"))
    without = ListSource([{"image": np.zeros((4, 4, 3), np.uint8)}])
    with pytest.raises(SpiganError, match=r"frame 0: its source gives no instance ids \(for boundaries\)"):
        Samples(without, None, ("image", "boundaries"))[0]


def test_flips_negate_the_x_of_normals_and_mirror_every_map():
    n = torch.nn.functional.normalize(torch.randn(3, 2, 4), dim=0)
    maps = {"normals": n, "boundaries": torch.rand(1, 2, 4).round(), "labels": torch.arange(8).view(2, 4)}
    out = horizontal_flip(maps)
    torch.testing.assert_close(out["normals"][0], -n[0].flip(-1))
    torch.testing.assert_close(out["normals"][1:], n[1:].flip(-1))
    torch.testing.assert_close(out["labels"], maps["labels"].flip(-1))
    torch.testing.assert_close(horizontal_flip(out)["normals"], n)


# ---------------------------------------------------------------------------------------
# SYNTHIA: the instance channel, normals derived from depth
# ---------------------------------------------------------------------------------------

PLANE = np.array([0.25, -0.85, -0.4]) / np.linalg.norm([0.25, -0.85, -0.4])  # faces the camera (n.p < 0)


def write_synthia_plane(root, size=(38, 64)):
    """A SYNTHIA folder of one frame: a plane n . p = -4 m seen through SYNTHIA's camera
    (scaled to `size`), the sky (65535 cm) where its depth would be negative or far; class
    and instance ids in the label file's red and green channels."""
    h, w = size
    camera = SYNTHIA_CAMERA.at(h, w)
    u = (np.arange(w) - camera.cx) / camera.fx
    v = (np.arange(h) - camera.cy) / camera.fy
    rays = np.stack(np.broadcast_arrays(u[None, :], v[:, None], np.ones((h, w))), axis=-1)
    with np.errstate(divide="ignore"):
        z = -4.0 / (rays @ PLANE)
    sky = ~((z > 0) & (z < 300))
    cm = np.where(sky, 65535, np.round(z * 100)).astype(np.uint16)
    instances = (np.arange(h * w).reshape(h, w) // 97 % 5 * 1000).astype(np.uint16)  # ids above 255
    label = np.zeros((h, w, 3), np.uint16)
    label[..., 2] = np.where(sky, 1, 3)  # red: sky or road
    label[..., 1] = instances  # green: instance ids
    io.write_png_atomic(root / "RGB" / "0000000.png", np.full((h, w, 3), 90, np.uint8))
    io.write_png_atomic(root / "GT" / "LABELS" / "0000000.png", label)
    io.write_png_atomic(root / "Depth" / "Depth" / "0000000.png", cm)
    return sky, instances


def test_synthia_instances_come_from_the_green_channel(tmp_path):
    _, instances = write_synthia_plane(tmp_path)
    frame = real_frames("synthia", tmp_path, "train", "16-class", size=None, labels=False, instances=True)[0]
    assert frame["instances"].dtype == np.uint16
    np.testing.assert_array_equal(frame["instances"], instances)
    out = Samples(real_frames("synthia", tmp_path, "train", "16-class", None, instances=True), None,
                  ("image", "labels", "boundaries"))[0]
    torch.testing.assert_close(out["boundaries"], instance_boundaries(torch.from_numpy(instances.astype(np.int64))))
    assert "instances" not in out


def test_synthia_normals_derived_from_a_plane_are_its_normal(tmp_path):
    sky, _ = write_synthia_plane(tmp_path)
    frame = real_frames("synthia", tmp_path, "train", "16-class", size=None, normals=True)[0]
    n = frame["normals"]
    assert n.shape == (38, 64, 3) and n.dtype == np.float32 and unit_or_zero(n)
    assert (n[sky] == 0).all()
    has = n.any(-1)
    assert has.sum() > 0.9 * (~sky).sum()  # all but the plane's rim next to the sky
    angle = np.degrees(np.arccos(np.clip(n[has] @ PLANE, -1, 1)))
    assert np.median(angle) < 0.5 and angle.max() < 5
    # Resized with the labels: nearest neighbour keeps them unit, and the plane's.
    small = real_frames("synthia", tmp_path, "train", "16-class", size=(19, 32), normals=True)[0]["normals"]
    assert small.shape == (19, 32, 3) and unit_or_zero(small)
    assert np.median(np.degrees(np.arccos(np.clip(small[small.any(-1)] @ PLANE, -1, 1)))) < 0.5


def test_intrinsics_scale_with_the_image():
    half = SYNTHIA_CAMERA.at(380, 640)
    assert (half.fx, half.fy, half.cx, half.cy) == pytest.approx((266.370176, 266.370176, 319.75, 189.75))
    # The ray through a pixel's corner is the same ray at any size: corner u = -0.5 at 0.
    for camera in (SYNTHIA_CAMERA, half, SYNTHIA_CAMERA.at(19, 32)):
        assert (-0.5 - camera.cx) / camera.fx == pytest.approx((-0.5 - 640) / 532.740352)
        assert (camera.height - 0.5 - camera.cy) / camera.fy == pytest.approx((759.5 - 380) / 532.740352)


@pytest.mark.parametrize("dataset, what, why", [("cityscapes", "normals", "read as a target"),
                                                ("camvid", "instance boundaries", "read as a target"),
                                                ("carla", "normals", "field of view"),
                                                ("carla_legacy", "instance boundaries", "instance one"),
                                                ("folder", "normals", "no camera intrinsics"),
                                                ("folder", "instance boundaries", "no instance ids")])
def test_sources_without_normals_or_instances_say_why(tmp_path, dataset, what, why):
    ask = {"normals": what == "normals", "instances": what != "normals"}
    with pytest.raises(SpiganError, match=f"^{dataset} gives no {what}: .*{why}") as e:
        real_frames(dataset, tmp_path, "val", "16-class", None, **ask)
    assert "\n" not in str(e.value)


# ---------------------------------------------------------------------------------------
# The export and the frame cache
# ---------------------------------------------------------------------------------------


def test_normals_png_encoding_round_trips(tmp_path):
    n = torch.nn.functional.normalize(torch.randn(5, 7, 3), dim=-1).numpy()
    n[0, :3] = 0  # none
    n[1, 0] = [1, 0, 0]
    code = io.normals_to_png16(n)
    assert code.dtype == np.uint16 and (code[0, :3] == 0).all()
    assert tuple(code[1, 0]) == (32768, 32768, 65535)  # BGR order: x = 1 is red, full scale
    io.write_png_atomic(tmp_path / "n.png", code)
    back = io.read_normals_png(tmp_path / "n.png")
    np.testing.assert_allclose(back, n, atol=3e-5)
    assert (back[0, :3] == 0).all() and unit_or_zero(back)


def test_synthia_export_writes_instance_ids_and_normals(tmp_path):
    from spigan.data.export import export

    export("sim", 2, 24, 48, tmp_path, progress=False)
    frames = SimFrames("sim", "train", 2, 24, 48)
    loaded = real_frames("synthia", tmp_path, "train", "16-class", size=None, instances=True, normals=True)
    for i in range(2):
        raw = io._imread(tmp_path / "GT" / "LABELS" / f"{i:07d}.png")
        np.testing.assert_array_equal(raw[..., 1], frames[i].instances)  # green, in OpenCV's BGR
        np.testing.assert_array_equal(loaded[i]["instances"], frames[i].instances)
        normals = io.read_normals_png(tmp_path / "Normals" / f"{i:07d}.png")
        np.testing.assert_allclose(normals, frames[i].normals, atol=3e-5)
        assert (normals[frames[i].labels == C["sky"]] == 0).all()
        # Read back as SYNTHIA, the export's exact normals, not ones derived with SYNTHIA's camera
        np.testing.assert_allclose(loaded[i]["normals"], frames[i].normals, atol=3e-5)
    (tmp_path / "Normals" / "0000001.png").unlink()
    with pytest.raises(SpiganError, match=r"Normals/0000001\.png: file not found"):
        real_frames("synthia", tmp_path, "train", "16-class", size=None, normals=True)[1]


def test_the_frame_cache_keeps_normals_and_instances(tmp_path, monkeypatch):
    from spigan.sim import dataset as ds

    frames = ds.SimFrames("sim", "val", 1, 16, 32, cache_dir=tmp_path)
    assert frames.folder.parent.name == f"sim-v{ds.SIM_VERSION}" and ds.SIM_VERSION >= 3  # none cached before normals
    rendered = frames[0]
    monkeypatch.setattr(ds, "render_frame", lambda *a, **k: pytest.fail("rendered again"))
    cached = ds.SimFrames("sim", "val", 1, 16, 32, cache_dir=tmp_path)[0]
    np.testing.assert_array_equal(cached.instances, rendered.instances)
    np.testing.assert_allclose(cached.normals, rendered.normals, atol=3e-5)
    assert cached.normals.dtype == np.float32 and unit_or_zero(cached.normals, atol=3e-5)
    assert (cached.normals[rendered.labels == C["sky"]] == 0).all()


def test_a_runs_sources_read_what_its_keys_ask_for(tmp_path, tiny_config):
    from spigan.sources import frame_source

    keys = ("image", "labels", "depth", "normals", "boundaries")
    write_synthia_plane(tmp_path)
    cfg = tiny_config("data.source=synthia", f"data.source_root={tmp_path}")
    frame = frame_source(cfg, "source", "train", keys)[0]
    assert frame["normals"].shape == (32, 64, 3) and frame["instances"].shape == (32, 64)  # data.size
    assert not {"normals", "instances"} & set(frame_source(cfg, "source", "train", keys[:3])[0])
    for source in (frame_source(cfg, "source", "train", keys), frame_source(tiny_config(), "source", "train", keys)):
        out = Samples(source, (32, 32), keys)[(0, 3)]
        assert list(out) == list(keys) and out["normals"].shape == (3, 32, 32) and out["boundaries"].shape == (1, 32, 32)
