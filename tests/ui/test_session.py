"""aelab.ui.session: a page's typed session object is made once, then kept across reruns."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _script() -> None:
    import streamlit as st

    from aelab.ui.session import session_object

    runs = session_object("test.runs", list)
    runs.append(len(runs))
    st.write(f"runs: {len(runs)}")


def test_a_session_object_is_made_on_first_use_and_kept() -> None:
    at = AppTest.from_function(_script).run()
    assert not at.exception and at.markdown[0].value == "runs: 1"
    at.run()
    assert at.markdown[0].value == "runs: 2" and at.session_state["test.runs"] == [0, 1]
