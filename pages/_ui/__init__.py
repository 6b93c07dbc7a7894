"""The only Streamlit glue: cached wrappers, shared widgets and renderers.

Page scripts import from here and from ``xai_core``; nothing in
``xai_core`` imports Streamlit.
"""
