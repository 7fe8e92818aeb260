"""UI strings in English and Simplified Chinese, and the session's language.

The strings live in aelab/ui/strings/, one module per page (``STRINGS``: key -> (English, Chinese)), and
are all registered when this module is imported, so pages only call ``t``::

    st.header(t("explore.title"))  # aelab/ui/strings/explore.py: "explore.title": ("Explore the latent space", "探索潜在空间")

``t(key, **fmt)`` returns the string in the session's language, formatted with ``str.format``. A key with
no Chinese falls back to English, and an unknown key comes back as itself, so a missing string is visible
on the page rather than an exception (tests/test_i18n.py checks that every registered key has both).
"""

from __future__ import annotations

from typing import Final

import streamlit as st

LANGUAGES: Final[dict[str, str]] = {"en": "English", "zh": "中文"}
DEFAULT_LANGUAGE: Final = "en"
LANGUAGE_KEY: Final = "aelab.language"  # the sidebar's language widget writes here

_STRINGS: dict[str, tuple[str, str]] = {}


def register(strings: dict[str, tuple[str, str]]) -> None:
    """Add strings: key -> (English, Simplified Chinese). Registering a key again replaces it."""
    for key, pair in strings.items():
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise ValueError(f"string {key!r} must be an (English, Chinese) pair; got {pair!r}")
        _STRINGS[key] = pair


def registered() -> dict[str, tuple[str, str]]:
    """A copy of every registered key -> (English, Chinese)."""
    return dict(_STRINGS)


def language() -> str:
    """The session's language code ("en" | "zh"); English outside a Streamlit run."""
    try:
        code = st.session_state.get(LANGUAGE_KEY, DEFAULT_LANGUAGE)
    except Exception:  # no script run context (plain Python, unit tests)
        return DEFAULT_LANGUAGE
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def t_or(key: str, default: str) -> str:
    """``t(key)``, or ``default`` (the library's own English words) where ``key`` has no strings, e.g. a model
    kind or a dataset added without translations."""
    return t(key) if key in _STRINGS else default


def t(key: str, **fmt: object) -> str:
    """The string for ``key`` in the session's language, formatted with ``fmt``."""
    pair = _STRINGS.get(key)
    if pair is None:
        return key
    english, chinese = pair
    text = chinese if language() == "zh" and chinese else english
    return text.format(**fmt) if fmt else text


def _register_tables() -> None:
    from aelab.ui.strings import TABLES

    for table in TABLES:
        register(table.STRINGS)


_register_tables()
