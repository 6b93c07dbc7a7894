import os

# Quiet TensorFlow's Python-side logging; its C++ start-up lines may still appear.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from .cli import main  # noqa: E402

raise SystemExit(main())
