"""Two people on one server: a model trained in one browser never shows in the other's picker, and neither
person's choice of dataset or model moves the other's.

Two browser contexts (two Streamlit sessions) on one `streamlit run app.py`: A switches to the digits
dataset and trains a 3-epoch autoencoder on the Train page; B, who stayed on MNIST-5k, still has its model
chosen, and when B then switches to digits too its picker offers the shipped models only.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.timeout(240)

APP_DRAWN = "() => window.__aelab?.planes?.['explore.plane']?.drawn === true"
TRAINED = "· trained "  # "Autoencoder (MLP) · trained 09:50:51" (and not "· pretrained")
PICKER = "[data-testid='stSidebar'] [data-testid='stSelectbox']:has-text('{label}')"


@pytest.fixture
def two_pages(browser: Browser, app_url: str) -> Iterator[tuple[Page, Page]]:
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2)]
    pages = [context.new_page() for context in contexts]
    errors: list[str] = []
    for page in pages:
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(app_url)
    for page in pages:
        page.wait_for_function(APP_DRAWN, timeout=120_000)
    yield pages[0], pages[1]
    for context in contexts:
        context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def picker(page: Page, label: str) -> tuple[str, list[str]]:
    """(the chosen option, every option) of the sidebar selectbox labelled ``label`` (a react-aria combobox)."""
    select = page.locator(PICKER.format(label=label)).first
    chosen = select.get_by_role("combobox").input_value().strip()
    select.locator("button[aria-label='Open']").click()
    options = page.locator("[role='listbox'] [role='option']")
    options.first.wait_for(timeout=10_000)
    texts = [text.strip() for text in options.all_inner_texts()]
    page.keyboard.press("Escape")
    options.first.wait_for(state="detached", timeout=10_000)
    return chosen, texts


def choose(page: Page, label: str, option: str) -> None:
    page.locator(PICKER.format(label=label)).first.locator("button[aria-label='Open']").click()
    page.locator("[role='listbox'] [role='option']").filter(has_text=option).first.click()
    page.wait_for_timeout(1000)


def test_a_model_trained_in_one_session_stays_in_that_session(two_pages: tuple[Page, Page]) -> None:
    a, b = two_pages
    b_dataset, _ = picker(b, "Dataset")
    b_model, b_models = picker(b, "Model")

    choose(a, "Dataset", "Digits")
    a.get_by_role("link", name="Train").click()
    epochs = a.get_by_label("Epochs")
    epochs.wait_for(timeout=60_000)
    epochs.fill("3")
    epochs.press("Enter")
    a.wait_for_timeout(800)
    a.locator("[data-testid='stMain'] button[kind='primary']:has-text('Train')").click()
    a.locator("[data-testid='stMain'] [data-testid='stAlertContentSuccess']").wait_for(timeout=120_000)
    a.wait_for_timeout(1000)
    a_model, a_models = picker(a, "Model")
    trained = [title for title in a_models if TRAINED in title]
    assert len(trained) == 1 and a_model == trained[0], (a_model, a_models)

    # B reruns (a click on its plane's page) and still has its own dataset and model, and the same list.
    b.get_by_role("link", name="Explore").click()
    b.wait_for_function(APP_DRAWN, timeout=60_000)
    assert picker(b, "Dataset")[0] == b_dataset
    assert picker(b, "Model") == (b_model, b_models)
    # On A's dataset B sees the shipped models only.
    choose(b, "Dataset", "Digits")
    _, b_digits_models = picker(b, "Model")
    assert b_digits_models and not any(TRAINED in title for title in b_digits_models), b_digits_models
    assert set(b_digits_models) == set(a_models) - set(trained)
    # And A's choice did not move when B changed its dataset.
    assert picker(a, "Model")[0] == a_model
