"""A user's own dataset in a real browser: upload a .zip of class folders in the sidebar, train one epoch
on it, and see its plane on Explore. Saves a screenshot to the pytest temp folder (not docs/)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from aelab.sources import SHAPE_NAMES, generate_shapes

from .conftest import wait_until_idle
from .live import NEAREST_PICTURES

pytestmark = pytest.mark.timeout(300)  # a fresh server pays the torch import first


def shapes_zip(per_class: int = 40) -> bytes:
    """A .zip with one folder per shape holding 28×28 PNGs (the generated shapes, as a user would have them)."""
    images, labels, _ = generate_shapes(per_class=per_class, seed=3)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for i, (image, label) in enumerate(zip(images, labels)):
            png = io.BytesIO()
            Image.fromarray(np.round(image * 255).astype(np.uint8)).save(png, format="PNG")
            archive.writestr(f"my-shapes/{SHAPE_NAMES[label]}/{i:04d}.png", png.getvalue())
    return buffer.getvalue()


def test_upload_a_zip_train_one_epoch_and_explore(
    page: Page, app_url: str, page_errors: list[str], tmp_path: Path
) -> None:
    page.set_viewport_size({"width": 1500, "height": 1050})
    page.goto(f"{app_url}/train")
    expect(page.get_by_role("heading", name="Train an autoencoder")).to_be_visible(timeout=60_000)
    sidebar = page.get_by_test_id("stSidebar")

    sidebar.get_by_text("Use your own dataset").click()
    uploader = sidebar.get_by_test_id("stFileUploader").filter(has_text="Dataset file")
    uploader.locator("input[type=file]").set_input_files(
        {"name": "my-shapes.zip", "mimeType": "application/zip", "buffer": shapes_zip()}
    )
    expect(sidebar.get_by_test_id("stAlertContentSuccess")).to_contain_text(
        "160 images shaped (1, 28, 28), 4 classes", timeout=30_000
    )
    expect(sidebar.get_by_role("combobox", name="Dataset")).to_have_value("my-shapes.zip (uploaded)")

    main = page.get_by_test_id("stMain")
    # the Train page keeps its own dataset choice once drawn: the upload is one of its options now
    main.get_by_test_id("stSelectbox").filter(has_text="Dataset").click()
    page.get_by_role("option", name="my-shapes.zip (uploaded)", exact=True).click()
    expect(main.get_by_role("combobox", name="Dataset")).to_have_value("my-shapes.zip (uploaded)", timeout=20_000)
    wait_until_idle(page)  # the dataset change redraws the settings with that dataset's defaults
    epochs = main.get_by_label("Epochs", exact=True)
    epochs.fill("1")
    epochs.press("Enter")
    wait_until_idle(page)  # the new value has reached the server before Train is pressed
    expect(epochs).to_have_value("1")
    main.get_by_role("button", name="Train").click()
    expect(main.get_by_test_id("stAlertContentSuccess")).to_contain_text("for 1 epochs", timeout=90_000)
    expect(sidebar.get_by_role("combobox", name="Model")).to_have_value(re.compile("trained"), timeout=20_000)

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Explore").click()
    expect(page.get_by_role("heading", name="Explore the latent space")).to_be_visible(timeout=30_000)
    page.wait_for_function(
        "() => Object.values(window.__aelab?.planes || {}).some(s => s.drawn && s.key === 'explore.plane')",
        timeout=60_000,
    )
    legend = page.evaluate(
        "() => Object.values(window.__aelab.planes).find(s => s.key === 'explore.plane').gd.data.map(t => t.name)"
    )
    assert [name for name in SHAPE_NAMES if name in legend] == list(SHAPE_NAMES)
    expect(page.locator(NEAREST_PICTURES).first).to_be_visible()
    page.wait_for_timeout(1000)  # plotly finishes drawing
    page.screenshot(path=str(tmp_path / "upload-explore.png"))
    print(f"screenshot: {tmp_path / 'upload-explore.png'}")
