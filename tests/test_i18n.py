"""UI strings: every key has English and Chinese, with the same format placeholders."""

from __future__ import annotations

import importlib
import pkgutil
import string

import pytest

import aelab.ui
from aelab.ui import i18n


def _import_every_page() -> None:
    # Pages register their strings when imported.
    for module in pkgutil.iter_modules(aelab.ui.__path__):
        importlib.import_module(f"aelab.ui.{module.name}")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


_import_every_page()
STRINGS = i18n.registered()


def test_the_pages_register_their_strings() -> None:
    prefixes = {key.split(".")[0] for key in STRINGS}
    assert {"explore", "sidebar", "nav", "kind"} <= prefixes


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_every_key_has_english_and_chinese_with_the_same_placeholders(key: str) -> None:
    english, chinese = STRINGS[key]
    assert english.strip() and chinese.strip(), f"{key} lacks a language"
    assert _fields(english) == _fields(chinese), f"{key}: placeholders differ"


def test_t_formats_falls_back_and_shows_unknown_keys() -> None:
    i18n.register({"test.greeting": ("Hello {name}", "你好 {name}")})
    assert i18n.language() == "en"  # outside a Streamlit run
    assert i18n.t("test.greeting", name="Ada") == "Hello Ada"
    assert i18n.t("test.no-such-key") == "test.no-such-key"


def test_register_refuses_anything_but_a_pair() -> None:
    with pytest.raises(ValueError, match="pair"):
        i18n.register({"test.bad": ("only English",)})  # type: ignore[dict-item]


def test_t_or_gives_the_librarys_words_where_a_key_has_no_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    i18n.register({"test.kind": ("Translated", "已翻译")})
    assert i18n.t_or("test.kind", "Library words") == "Translated"
    assert i18n.t_or("test.no-such-kind", "Library words") == "Library words"
    # A shipped model of a kind that has no short name in the tables is titled by its class, not by a key.
    from aelab.ui import state

    monkeypatch.delitem(i18n._STRINGS, "kind_short.vae")
    titles = [entry.title for entry in state.pretrained_entries("mnist5k")]
    assert "Variational autoencoder · pretrained" in titles and not any("kind_short" in t for t in titles)
