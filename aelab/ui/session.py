"""This session's typed objects in ``st.session_state``: one get-or-create for every page.

A page keeps one small dataclass of its own under one key (STYLE.md: no bag of loose keys);
:func:`session_object` hands it back, typed, and makes it the first time it is asked for.
"""

from __future__ import annotations

from typing import TypeVar, cast

import streamlit as st

T = TypeVar("T")


def session_object(key: str, kind: type[T]) -> T:
    """The ``kind`` instance this session keeps under ``key``, made with ``kind()`` on first use."""
    if key not in st.session_state:
        st.session_state[key] = kind()
    return cast(T, st.session_state[key])
