"""The Streamlit app's pages and widgets. Only this package imports Streamlit; it calls ``aelab.*`` for the work."""
