"""aelab's Streamlit entry point (``streamlit run app.py``); the app itself is `aelab.ui.app`."""

from aelab.ui.app import main

main()
