"""Who this browser session is: a random owner id kept in ``st.session_state``.

Models, dataset zips and scans a session adds are stored under this id (``xai_core`` takes it as an
explicit ``owner`` argument) and seen by nobody else until the owner adds them to the shared library.
The id is random (128 bits), never shown, and lives only as long as the session.
"""

from __future__ import annotations

import secrets

import streamlit as st

from xai_core import config

OWNER = "_owner"


def owner() -> str:
    if OWNER not in st.session_state:
        st.session_state[OWNER] = secrets.token_hex(16)
    return st.session_state[OWNER]


def owner_of(model_name: str) -> str | None:
    """This session's owner id if ``model_name`` is one of its private models, else None (shared)."""
    mine = config.user_models_dir(owner()) / str(model_name) / "model.keras"
    return owner() if mine.is_file() else None
