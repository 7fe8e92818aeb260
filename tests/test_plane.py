"""The latent plane's pure helpers (no browser): colours, payloads, gesture validation, the plotly.js URL, and
plane.js's helpers under node against their Python twins.

The browser behaviour (clicks, marker, bytes on the websocket) is tested in tests/browser/test_plane.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
import torch
from plotly.colors import qualitative
from streamlit.testing.v1 import AppTest

from aelab.export import DECODER_JS, decoder_spec, plane_map_affine
from aelab.latent import fit_plane_map, interpolate
from aelab.models import ModelConfig, build_model
from aelab.plane import PLANE_JS, SliderSpec, kth_distance, typical_spacing
from aelab.ui import plane
from aelab.ui.plane import (
    LABEL_COLORS,
    decode_array,
    encode_array,
    ends_payload,
    label_colors,
    marker_payload,
    parse_click,
    parse_code,
    plane_payload,
    plotly_js_url,
    point_outside,
)

BOUNDS = np.array([[-2.0, 2.0], [-1.0, 3.0]])


def _payload(points: np.ndarray, labels: np.ndarray, names: list[str], **kwargs: object) -> dict:
    return plane_payload(points, labels, names, kwargs.pop("bounds", BOUNDS), key="p", plotly_url="/x.js", **kwargs)


def test_label_colors_start_with_plotly_and_stay_distinct() -> None:
    assert LABEL_COLORS[:10] == list(qualitative.Plotly)
    assert len(set(LABEL_COLORS)) == len(LABEL_COLORS) > 10
    assert label_colors(3) == LABEL_COLORS[:3]
    many = label_colors(len(LABEL_COLORS) + 2)
    assert many[-2:] == LABEL_COLORS[:2]  # cycled, never an IndexError


@pytest.mark.parametrize("dtype", ["f4", "i4"])
def test_encode_array_round_trips(dtype: str) -> None:
    values = np.array([0, 1.5, -3, 1e6]) if dtype == "f4" else np.array([0, 7, 4999, 2**31 - 1])
    encoded = encode_array(values, dtype)
    assert encoded["dtype"] == dtype
    np.testing.assert_array_equal(decode_array(encoded), values.astype(dtype))


def test_encode_array_refuses_other_dtypes() -> None:
    with pytest.raises(ValueError, match="dtype"):
        encode_array(np.zeros(2), "f8")


def test_payload_has_one_trace_per_label_with_its_points_and_indexes() -> None:
    rng = np.random.default_rng(0)
    points = rng.normal(size=(50, 2))
    labels = rng.integers(0, 3, size=50)
    payload = _payload(points, labels, ["a", "b", "c", "empty"])

    assert [t["name"] for t in payload["traces"]] == ["a", "b", "c", "empty"]
    assert [t["color"] for t in payload["traces"]] == LABEL_COLORS[:4]
    for label, trace in enumerate(payload["traces"]):
        index = decode_array(trace["index"])
        np.testing.assert_array_equal(index, np.nonzero(labels == label)[0])
        np.testing.assert_array_equal(decode_array(trace["x"]), points[index, 0].astype(np.float32))
        np.testing.assert_array_equal(decode_array(trace["y"]), points[index, 1].astype(np.float32))
    assert decode_array(payload["traces"][3]["x"]).size == 0
    assert payload["bounds"] == BOUNDS.tolist()


def test_served_traces_are_the_payloads_traces_in_a_file_made_once_per_arrays() -> None:
    rng = np.random.default_rng(1)
    points, labels = rng.normal(size=(40, 2)).astype(np.float32), rng.integers(0, 3, size=40)
    url = plane.served_traces(points, labels, ["a", "b", "c"])
    served = plane.PUBLISHED_DIR / url.rsplit("/", 1)[-1]
    assert json.loads(served.read_text()) == _payload(points, labels, ["a", "b", "c"])["traces"]
    assert plane.served_traces(points, labels, ["a", "b", "c"]) == url  # the same arrays: the same file
    served.unlink()  # a temp-folder cleaner removed it: written again
    assert plane.served_traces(points, labels, ["a", "b", "c"]) == url and served.exists()
    assert plane.served_traces(points, labels, ["x", "y", "z"]) != url  # other names, other traces
    payload = _payload(points, labels, ["a", "b", "c"], traces_url=url)
    assert payload["traces_url"] == url and "traces" not in payload


def test_payload_is_identical_for_identical_inputs() -> None:
    # Streamlit replaces an unchanged element by a short reference only if its JSON is byte-identical.
    points, labels = np.arange(10.0).reshape(5, 2), np.array([0, 1, 0, 1, 1])
    first = json.dumps(_payload(points, labels, ["a", "b"]))
    assert json.dumps(_payload(points.copy(), labels.copy(), ["a", "b"])) == first


def test_payload_view_changes_with_bounds_only() -> None:
    points, labels = np.zeros((2, 2)), np.array([0, 1])
    view = _payload(points, labels, ["a", "b"])["view"]
    assert _payload(points, labels, ["a", "b"], background="data:image/png;base64,AAAA")["view"] == view
    assert _payload(points, labels, ["a", "b"], bounds=BOUNDS * 2)["view"] != view


def test_payload_stays_small_for_5000_points() -> None:
    points = np.random.default_rng(0).normal(size=(5000, 2))
    payload = _payload(points, np.arange(5000) % 10, [str(i) for i in range(10)])
    assert len(json.dumps(payload)) < 90_000  # 12 bytes a point, base64


@pytest.mark.parametrize(
    ("points", "labels", "bounds", "background", "message"),
    [
        (np.zeros((4, 3)), np.zeros(4, int), BOUNDS, None, r"points must be shaped \(N, 2\); got \(4, 3\)"),
        (np.zeros((4, 2)), np.zeros(3, int), BOUNDS, None, r"labels must be shaped \(4,\)"),
        (np.zeros((2, 2)), np.array([0, 2]), BOUNDS, None, r"labels must lie in 0..1"),
        (np.zeros((2, 2)), np.array([0.0, 1.0]), BOUNDS, None, "labels must be integers"),
        (np.zeros((2, 2)), np.array([0, 1]), np.array([[1, 0], [0, 1]]), None, "min < max"),
        (np.zeros((2, 2)), np.array([0, 1]), np.array([[0, np.nan], [0, 1]]), None, "finite"),
        (np.zeros((2, 2)), np.array([0, 1]), np.zeros(4), None, "bounds must be"),
        (np.zeros((2, 2)), np.array([0, 1]), BOUNDS, "https://example.com/a.png", "data URL"),
    ],
)
def test_payload_refuses_malformed_inputs(
    points: np.ndarray, labels: np.ndarray, bounds: np.ndarray, background: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _payload(points, labels, ["a", "b"], bounds=bounds, background=background)


def test_marker_payload() -> None:
    assert marker_payload("p", None) == {"key": "p", "selected": None}
    assert marker_payload("p", (np.float32(1.5), 2)) == {"key": "p", "selected": [1.5, 2.0]}
    with pytest.raises(ValueError, match="finite"):
        marker_payload("p", (float("nan"), 0.0))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"x": 1.25, "y": -3, "n": 17}, (1.25, -3.0)),
        (None, None),
        ({"x": 1.0}, None),
        ({"x": "left", "y": 0}, None),
        ({"x": float("inf"), "y": 0}, None),
        ([1.0, 2.0], None),
    ],
)
def test_parse_click(value: object, expected: tuple[float, float] | None) -> None:
    assert parse_click(value) == expected


def test_plotly_js_is_served_from_the_python_package_under_the_base_path() -> None:
    assert (plane.PLOTLY_JS_DIR / plane.PLOTLY_JS_FILE).is_file()
    assert plotly_js_url("", "aelab.ui.plane.plotlyjs").startswith(
        "/component/aelab.ui.plane.plotlyjs/plotly.min.js?v="
    )
    assert plotly_js_url("/lab/", "n").startswith("/lab/component/n/plotly.min.js?v=")


def test_javascript_loads_nothing_from_the_network() -> None:
    for js in (plane.PLANE_MODULE, plane.RELAY_MODULE, plane.PREFETCH_MODULE):
        assert "http" not in js and "cdn" not in js.lower()


def test_the_relay_stays_small() -> None:
    # The relay's code and data are what every rerun re-sends; the plane's module goes once.
    assert len(plane.RELAY_MODULE) < 2_000
    relay = marker_payload("p", (1.0, 2.0), hover=True, code=[1.0, 2.0], answers=123)
    assert relay == {"key": "p", "selected": [1.0, 2.0], "code": [1.0, 2.0], "n": 123, "hover": True}
    assert len(json.dumps(relay)) < 200


SPECS = [SliderSpec(-2.0, 2.0, 0.02), SliderSpec(0.0, 1.0, 0.01)]


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        ({"x": 0, "y": 0}, None, None),  # no code: the plane point is used
        ({"z": [1.5, 0.5]}, [1.5, 0.5], None),
        ({"z": [2.5, -0.5]}, [2.0, 0.0], None),  # a little outside: clamped
        ({"z": [9.0, 0.5]}, None, "far outside"),
        ({"z": [float("nan"), 0.5]}, None, "not a finite number"),
        ({"z": [float("-inf"), 0.5]}, None, "not a finite number"),
        ({"z": [1.0]}, None, "a code of 2 numbers"),
        ({"z": "1,2"}, None, "a code of 2 numbers"),
        ({"z": [None, 1.0]}, None, "a code of 2 numbers"),
        ("z", None, None),
    ],
)
def test_parse_code_clamps_or_refuses(value: object, code: list | None, message: str | None) -> None:
    z, reason = parse_code(value, SPECS)
    assert (None if z is None else z.tolist()) == code
    assert (reason is None) == (message is None) and (message is None or message in reason)


def test_point_outside_means_far_outside() -> None:
    assert not point_outside((2.5, 0.0), BOUNDS)  # 0.5 outside a range of 4: clamped by the page, not refused
    assert point_outside((6.5, 0.0), BOUNDS) and point_outside((0.0, -5.5), BOUNDS)


def test_typical_spacing_and_kth_distance() -> None:
    grid = np.stack(np.meshgrid(np.arange(10.0), np.arange(10.0)), axis=-1).reshape(-1, 2)
    assert typical_spacing(grid, k=4) == pytest.approx(1.0)  # four neighbours at distance 1 inside a grid
    assert kth_distance(grid, np.array([4.5, 4.5]), k=4) == pytest.approx(np.hypot(0.5, 0.5))
    assert kth_distance(grid, np.array([30.0, 4.0]), k=1) == pytest.approx(21.0)


NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="node is not installed: plane.js cannot be run")
def test_plane_js_helpers_match_python(tmp_path) -> None:
    """plane.js's typed arrays, k-th distance and plane projection against their Python twins."""
    rng = np.random.default_rng(1)
    points = rng.normal(size=(300, 2)).astype(np.float32)
    probes = np.array([[0.0, 0.0], [3.0, -2.0], [0.5, 0.25]])
    codes = rng.normal(size=(200, 4)).astype(np.float32)
    plane_map = fit_plane_map(codes, "pca")
    affine = plane_map_affine(plane_map, 4)
    job = {
        "xs": [encode_array(points[:100, 0], "f4"), encode_array(points[100:, 0], "f4")],
        "ys": [encode_array(points[:100, 1], "f4"), encode_array(points[100:, 1], "f4")],
        "index": encode_array(np.array([0, 7, 2**31 - 1]), "i4"),
        "probes": probes.tolist(),
        "map": affine,
        "codes": codes[:5].tolist(),
    }
    (tmp_path / "job.json").write_text(json.dumps(job))
    script = """
const P = require(process.argv[1]);
const job = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
const xs = job.xs.map(P.array), ys = job.ys.map(P.array);
process.stdout.write(JSON.stringify({
  index: Array.from(P.array(job.index)),
  kth: job.probes.map(([x, y]) => [1, 5].map((k) => P.kthDistance(xs, ys, x, y, k))),
  plane: job.codes.map((z) => P.toPlane(job.map, z)),
}));
"""
    done = subprocess.run(
        [NODE, "-e", script, str(PLANE_JS), str(tmp_path / "job.json")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["index"] == [0, 7, 2**31 - 1]
    for probe, kth in zip(probes, result["kth"]):
        assert kth == pytest.approx([kth_distance(points, probe, k) for k in (1, 5)], abs=1e-5)
    np.testing.assert_allclose(result["plane"], plane_map.to_plane(codes[:5]), atol=1e-5)


@pytest.mark.skipif(NODE is None, reason="node is not installed: plane.js cannot be run")
@pytest.mark.parametrize(("kind", "latent_dim", "steps"), [("ae", 2, 8), ("conv", 2, 16), ("vae", 5, 3), ("ae", 2, 1)])
def test_plane_js_interpolation_matches_latent_interpolate(kind: str, latent_dim: int, steps: int, tmp_path) -> None:
    """The strip the plane decodes for A → B (plane.js's interpolationCodes, then decoder.js) is
    aelab.latent.interpolate decoded by torch: the same float32 codes, images within 1e-5."""
    config = ModelConfig(kind=kind, image_shape=(1, 12, 12), latent_dim=latent_dim, hidden=(48, 24), channels=(6, 12),
                         seed=3)  # fmt: skip
    model = build_model(config)
    with torch.no_grad():  # wider weights than the default init: varied pixels, not a flat grey
        for p in model.decoder.parameters():
            p.mul_(3.0)
    a, b = (3 * np.random.default_rng(7).standard_normal((2, latent_dim))).astype(np.float64)
    codes, expected = interpolate(model, a, b, steps)
    job = {"spec": decoder_spec(model), "a": a.tolist(), "b": b.tolist(), "steps": steps}
    (tmp_path / "job.json").write_text(json.dumps(job))
    script = """
const [decoderJs, planeJs, jobPath] = process.argv.slice(1);
const job = JSON.parse(require("fs").readFileSync(jobPath, "utf8"));
const decoder = require(decoderJs).load(job.spec);
const codes = require(planeJs).interpolationCodes(job.a, job.b, job.steps);
process.stdout.write(JSON.stringify({ codes: codes.map((z) => Array.from(z)),
                                      images: codes.map((z) => Array.from(decoder.decode(z))) }));
"""
    done = subprocess.run(
        [NODE, "-e", script, str(DECODER_JS), str(PLANE_JS), str(tmp_path / "job.json")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    np.testing.assert_array_equal(np.array(found["codes"], dtype=np.float32), codes)
    images = np.array(found["images"]).reshape(expected.shape)
    assert np.abs(images - expected).max() <= 1e-5
    assert steps == 1 or expected.std() > 0.05, "the comparison should cover varied pixels"


def test_ends_payload_carries_the_codes_or_refuses_them() -> None:
    assert ends_payload("p", [0, 1.5], np.array([2.0, -1.0]), 8, answers=3) == {
        "plane": "p", "a": [0.0, 1.5], "b": [2.0, -1.0], "steps": 8, "n": 3,
    }  # fmt: skip
    assert "n" not in ends_payload("p", [0.0], [1.0], 3)
    for a, b, steps in (([0.0, float("nan")], [0.0, 0.0], 8), ([0.0], [0.0, 1.0], 8), ([0.0], [1.0], 0)):
        with pytest.raises(ValueError):
            ends_payload("p", a, b, steps)


def test_latent_plane_returns_the_click_set_through_session_state() -> None:
    # The recipe for page tests: AppTest cannot click, but it can set the component's state.
    def page() -> None:
        import numpy as np
        import streamlit as st

        from aelab.ui.plane import latent_plane

        clicked = latent_plane(
            np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([0, 1]), ["a", "b"], np.array([[-2, 2], [-2, 2]]), key="plane"
        )
        st.write(repr(clicked))

    app = AppTest.from_function(page).run()
    assert not app.exception and app.markdown[0].value == "None"
    app.session_state["plane"] = {"click": {"x": 0.5, "y": -1.25, "n": 1}}
    app.run()
    assert not app.exception and app.markdown[0].value == "(0.5, -1.25)"


def test_sprite_sheet_holds_every_image_in_order_or_is_refused_past_its_limit() -> None:
    import base64
    import io

    from PIL import Image

    from aelab.imaging import to_pixels
    from aelab.plane import sprite_sheet

    images = np.random.default_rng(0).random((11, 3, 5, 4)).astype(np.float32)
    sheet = sprite_sheet(images)
    assert sheet["columns"] == 4 and sheet["count"] == 11 and sheet["shape"] == [3, 5, 4]
    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(sheet["url"].split(",", 1)[1]))))
    for i in (0, 5, 10):
        r, c = divmod(i, 4)
        np.testing.assert_array_equal(picture[r * 5 : (r + 1) * 5, c * 4 : (c + 1) * 4], to_pixels(images[i]))
    assert sprite_sheet(images, limit_bytes=100) is None
