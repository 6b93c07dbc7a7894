"""The one global setting of a session: what runs the black-box methods' forward passes (sidebar, every page).

The choice applies to this session only (``openvino_backend.using`` around the page run), never to other
users of the same server; the server's default is ``XAI_FORWARD_BACKEND`` (else tensorflow).
"""

from __future__ import annotations

import streamlit as st

from xai_core.models import openvino_backend

LABELS = {
    "auto": "Auto: OpenVINO where faster (same maps)",
    "tensorflow": "TensorFlow",
    "openvino": "OpenVINO fp32 (same maps)",
    "openvino-bf16": "OpenVINO bf16 (fast, approximate)",
}


def backend_setting() -> str:
    """The sidebar's choice for this session (the server default until changed)."""
    default = openvino_backend.requested()
    options = list(LABELS)
    choice = st.sidebar.selectbox(
        "Forward passes", options, index=options.index(default), format_func=LABELS.get, key="forward_backend",
        help="What runs the model for SHAP, LIME, RISE, occlusion, superpixel Shapley and the trust checks. "
             "fp32 choices give the same maps; bf16 is faster on CPUs with bf16 support but approximate, and "
             "every map computed with it says so. Gradient methods always use TensorFlow.")
    return str(choice)
