"""Train and Compare in a real browser, through app.py: a short training on digits runs to its success
message with the curves drawn, and Compare then draws its four planes (PCA, the trained model, the shipped
UMAP-structured autoencoder, UMAP). Saves train.png, compare.png and
learn.png on the way (into docs/ with AELAB_UPDATE_DOCS=1)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import screenshot_path, wait_until_idle

pytestmark = pytest.mark.timeout(300)  # a fresh server: torch import, then the first UMAP fit compiles numba


VIEWPORT = {"width": 1500, "height": 1050}


def _main(page: Page):
    return page.get_by_test_id("stMain")


def _choose(page: Page, label: str, option: str) -> None:
    """Pick ``option`` in the main area's selectbox labelled ``label``."""
    _main(page).get_by_test_id("stSelectbox").filter(has_text=label).click()
    page.get_by_role("option", name=option, exact=True).click()


def _set_number(page: Page, label: str, value: int) -> None:
    field = _main(page).get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    wait_until_idle(page)  # the new value has reached the server before anything else is pressed
    expect(field).to_have_value(str(value))


def _train(page: Page, epochs: int) -> None:
    _set_number(page, "Epochs", epochs)
    _main(page).get_by_role("button", name="Train").click()
    expect(_main(page).get_by_test_id("stAlertContentSuccess")).to_contain_text(f"for {epochs} epochs", timeout=60_000)


def _go(page: Page, title: str) -> None:
    """Switch page through the sidebar (same session: a new URL would start a new one)."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()


def _plot_centres(page: Page) -> list[tuple[float, float]]:
    """Page coordinates of the centre of each Compare plane's plot area, left to right."""
    return page.evaluate(
        """() => Object.values(window.__aelab.planes)
            .filter(s => s.key.startsWith('compare.plane.'))
            .map(s => s.gd.querySelector('.nsewdrag').getBoundingClientRect())
            .sort((a, b) => a.left - b.left)
            .map(r => [r.left + r.width / 2, r.top + r.height / 2])"""
    )


def test_train_then_compare_then_learn(page: Page, app_url: str, page_errors: list[str]) -> None:
    page.set_viewport_size(VIEWPORT)
    page.goto(f"{app_url}/train")
    expect(page.get_by_role("heading", name="Train an autoencoder")).to_be_visible(timeout=60_000)
    _choose(page, "Dataset", "Digits 8×8")
    # The rerun first adds digits' own field (default 60), then removes MNIST's stale one: wait for both,
    # in that order (a count of 1 alone can still be the stale field, before the rerun has drawn anything).
    expect(_main(page).locator("input[aria-label='Epochs'][value='60']")).to_have_count(1, timeout=20_000)
    epochs = _main(page).get_by_label("Epochs", exact=True)
    expect(epochs).to_have_count(1, timeout=20_000)
    expect(epochs).to_have_value("60")  # digits' default

    _train(page, 2)
    main = _main(page)
    expect(main.get_by_test_id("stProgress")).to_have_count(0)  # the progress bar is gone once done
    expect(main.get_by_test_id("stPlotlyChart")).to_have_count(3)  # loss curve, codes scatter and the replay
    expect(main.get_by_test_id("stDataFrame")).to_be_visible()
    expect(main.get_by_test_id("stDownloadButton").filter(has_text="Download the checkpoint")).to_be_visible()
    expect(main.get_by_test_id("stDownloadButton").filter(has_text="Download the replay as a GIF")).to_be_visible()
    picker = page.get_by_test_id("stSidebar").get_by_role("combobox", name="Model")
    expect(picker).to_have_value(re.compile("trained"))  # the new model is the sidebar's choice

    # a longer run for the picture: curves with some length, clusters formed
    _train(page, 60)
    page.wait_for_timeout(1500)  # plotly finishes drawing
    page.screenshot(path=str(screenshot_path("train.png")))

    _go(page, "Compare")
    expect(page.get_by_role("heading", name="PCA, autoencoder and UMAP side by side")).to_be_visible(timeout=30_000)
    page.wait_for_function(
        "() => { const p = window.__aelab?.planes || {};"
        " return Object.values(p).filter(s => s.drawn && s.key.startsWith('compare.plane.')).length === 4; }",
        timeout=200_000,
    )
    expect(_main(page).get_by_test_id("stDataFrame")).to_be_visible(timeout=120_000)
    expect(_main(page).get_by_test_id("stDataFrame")).to_contain_text("UMAP")
    # a click in each plane decodes through that method's inverse (UMAP's takes a moment)
    page.set_viewport_size({"width": VIEWPORT["width"], "height": 1400})
    for n, (x, y) in enumerate(_plot_centres(page), start=1):
        page.mouse.move(x, y)
        page.wait_for_timeout(300)  # plotly acts on a click only after the pointer rested on the spot
        page.mouse.click(x, y)
        expect(_main(page).get_by_test_id("stImage")).to_have_count(n, timeout=60_000)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(screenshot_path("compare.png")))

    _go(page, "Learn")
    expect(page.get_by_role("heading", name="What an autoencoder does")).to_be_visible(timeout=30_000)
    # clean, noisy, denoised; originals, PCA, autoencoder; one traversal row per latent axis (d = 2)
    expect(_main(page).get_by_test_id("stImage")).to_have_count(8, timeout=30_000)
    page.set_viewport_size({"width": VIEWPORT["width"], "height": 2500})  # the lesson and the live pieces
    page.wait_for_timeout(1500)
    page.screenshot(path=str(screenshot_path("learn.png")))
