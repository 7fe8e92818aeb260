"""Animations: a walk across the plane and a training's replay as GIFs that Pillow opens with the frames
asked for, the CLI's `animate`, the replay a training job keeps, and clear refusals of what cannot be drawn."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageSequence

from aelab import cli
from aelab.animate import MAX_FRAMES, MAX_SIDE, AnimationError, replay_frames, replay_gif, walk_frames, walk_gif
from aelab.imaging import to_pixels
from aelab.jobs import REPLAY_POINTS, TrainingPool, replay_subset
from aelab.latent import decode_codes
from aelab.models import ModelConfig
from aelab.plane import label_colors
from aelab.train import TrainConfig


def frames_of(data: bytes) -> list[Image.Image]:
    gif = Image.open(io.BytesIO(data))
    assert gif.format == "GIF"
    return [frame.convert("RGB") for frame in ImageSequence.Iterator(gif)]


def test_a_walk_is_the_decoded_path_there_and_back(trained_ae) -> None:
    start, end = [-1.0, 0.5], [1.5, -0.5]
    frames = frames_of(walk_gif(trained_ae.model, start, end, steps=6, scale=4, fps=10))
    assert len(frames) == 6 + 4 and frames[0].size == (8 * 4, 8 * 4)  # 6 out, 4 back (the ends once each)
    # The first frame is the start's decoded image (GIF keeps grey exactly: 256 levels fit its palette).
    first = to_pixels(decode_codes(trained_ae.model, np.array([start], dtype=np.float32))[0])
    assert np.array_equal(np.asarray(frames[0])[::4, ::4, 0], first)
    assert np.array_equal(np.asarray(frames[1])[..., 0], np.asarray(walk_frames(trained_ae.model, start, end, 6, 4)[1]))


@pytest.mark.parametrize(
    ("start", "end", "steps", "scale", "message"),
    [
        ([1.0, 1.0], [1.0, 1.0], 8, 4, "no length"),
        ([1.0, 1.0, 0.0], [0.0, 1.0, 0.0], 8, 4, "have 2 numbers"),
        ([float("nan"), 0.0], [1.0, 1.0], 8, 4, "finite"),
        ([0.0, 0.0], [1.0, 1.0], 1, 4, "at least 2 steps"),
        ([0.0, 0.0], [1.0, 1.0], MAX_FRAMES + 1, 4, f"1 to {MAX_FRAMES} frames"),
        ([0.0, 0.0], [1.0, 1.0], 8, MAX_SIDE // 8 + 1, f"limited to {MAX_SIDE} pixels"),
    ],
)
def test_a_walk_that_cannot_be_drawn_says_why(trained_ae, start, end, steps, scale, message) -> None:
    with pytest.raises(AnimationError, match=message):
        walk_gif(trained_ae.model, start, end, steps=steps, scale=scale)


def test_a_replay_draws_each_epoch_on_fixed_axes_in_the_label_colours() -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 40)
    centres = np.array([[-4.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    # Three epochs: one blob that splits into three clusters.
    epochs = [rng.normal(size=(120, 2)) * 0.5 + centres[labels] * t for t in (0.0, 0.5, 1.0)]
    frames = replay_frames(epochs, labels, size=240)
    assert len(frames) == 3 and all(f.size == (240, 240) for f in frames)
    colours = {tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in label_colors(3)}
    last = {tuple(p) for p in np.asarray(frames[-1]).reshape(-1, 3)}
    assert colours <= last  # every class is drawn in its colour

    # Axes are fixed: the first epoch's blob sits in the middle, so its points span less of the frame.
    def spread(frame: Image.Image) -> int:
        pixels = np.asarray(frame)
        points = np.zeros(pixels.shape[:2], dtype=bool)
        for colour in colours:
            points |= (pixels == colour).all(axis=2)
        return int(np.ptp(np.argwhere(points)[:, 1]))

    assert spread(frames[0]) < spread(frames[-1]) / 2


def test_a_replay_gif_keeps_at_most_its_frames_and_holds_the_last() -> None:
    labels = np.zeros(10, dtype=int)
    epochs = [np.random.default_rng(i).normal(size=(10, 2)) for i in range(200)]
    gif = replay_gif(epochs, labels, size=120, fps=4, max_frames=50)
    frames = frames_of(gif)
    assert len(frames) == 50
    durations = [frame.info["duration"] for frame in ImageSequence.Iterator(Image.open(io.BytesIO(gif)))]
    assert durations[:-1] == [250] * 49 and durations[-1] == 250 + 1000  # the last epoch held a second
    with pytest.raises(AnimationError, match="nothing to replay"):
        replay_gif([], labels)


def test_the_cli_writes_a_walk_and_refuses_one_with_no_length(trained_ae, tmp_path: Path, capsys) -> None:
    checkpoint = trained_ae.checkpoint.save(tmp_path / "m.safetensors")
    out = tmp_path / "walk.gif"
    args = ["animate", str(checkpoint), "--from=-1,0", "--to", "1,0.5", "--steps", "5", "--scale", "3"]
    assert cli.main([*args, "--out", str(out)]) == 0
    assert len(frames_of(out.read_bytes())) == 5 + 3 and "wrote a walk of 5 images" in capsys.readouterr().out
    assert cli.main(["animate", str(checkpoint), "--from", "1,1", "--to", "1,1", "--out", str(tmp_path / "x.gif")]) == 2
    assert "no length" in capsys.readouterr().err and not (tmp_path / "x.gif").exists()
    with pytest.raises(SystemExit):
        cli.main(["animate", str(checkpoint), "--from", "one,two", "--to", "1,1", "--out", str(out)])
    assert "expected numbers separated by commas" in capsys.readouterr().err


def test_a_job_keeps_every_epochs_codes_of_a_fixed_subset_for_its_replay(tiny) -> None:
    job = TrainingPool(max_workers=1).submit(
        "replay", tiny, ModelConfig(kind="ae", hidden=(16,)), TrainConfig(epochs=3, batch_size=64, lr=5e-3)
    )
    assert job.wait(60)
    snap = job.snapshot()
    assert len(snap.replay) == 3 and all(codes.shape == (len(tiny.test_labels), 2) for codes in snap.replay)
    assert np.array_equal(snap.replay_labels, tiny.test_labels)
    assert np.allclose(snap.replay[-1], snap.codes)  # the last frame is the codes the scatter shows
    subset = replay_subset(5 * REPLAY_POINTS)
    assert len(subset) == REPLAY_POINTS and np.array_equal(subset, replay_subset(5 * REPLAY_POINTS))
