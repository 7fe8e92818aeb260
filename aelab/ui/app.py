"""aelab's Streamlit app: the shared sidebar and the four pages.

`main()` is one run of the app's script. Streamlit runs it through the top-level ``app.py`` (``streamlit run
app.py`` in a checkout) or through this file itself (``aelab app`` runs ``streamlit run`` on it, so that an
installed wheel needs no checkout).
"""

from __future__ import annotations

import streamlit as st

from aelab.ui.plane import prefetch_plotly  # light (numpy, plotly's package): no torch


def main() -> None:
    """One run of the app: page config, plotly.js prefetch, the sidebar, then the chosen page."""
    st.set_page_config(layout="wide", page_title="aelab", page_icon=":material/scatter_plot:")
    with st.sidebar:
        prefetch_plotly()  # the browser loads plotly.js while the imports below run (seconds on a cold start)

    # Imported here, after the prefetch is out: torch and scikit-learn take seconds on a cold start.
    from aelab.ui import cache, compare, draw_page, explore, learn, sidebar, state, train_page, workspace
    from aelab.ui.i18n import t

    with st.sidebar:
        opened = workspace.sync()  # the browser's token: this run opens its workspace once it has arrived
    state.refresh_from_workspace()  # models and datasets saved by a job, another tab or a share link
    if opened:
        state.restore_choices()
    sidebar.open_share_link()
    train_page.collect_finished_training()  # a run that ended while another page was open joins the picker
    sidebar.render()
    state.remember_choices()
    pages = [
        st.Page(
            explore.render, title=t("nav.explore"), url_path="explore", icon=":material/scatter_plot:", default=True
        ),
        st.Page(train_page.render, title=t("nav.train"), url_path="train", icon=":material/model_training:"),
        st.Page(draw_page.render, title=t("nav.draw"), url_path="draw", icon=":material/draw:"),
        st.Page(compare.render, title=t("nav.compare"), url_path="compare", icon=":material/compare:"),
        st.Page(learn.render, title=t("nav.learn"), url_path="learn", icon=":material/school:"),
    ]
    st.navigation(pages).run()
    # Once per process, after the first page is out: full GC passes then skip the imports (a click's slow half).
    cache.freeze_startup_heap()


if __name__ == "__main__":  # `streamlit run aelab/ui/app.py` runs this file as __main__
    main()
