"""Accelerators: use a GPU when TensorFlow sees one, without letting one process take all its memory.

TensorFlow maps (almost) the whole GPU memory into the first process that
touches it, so a second worker, Ray actor or Streamlit server on the same GPU
fails to start. Memory growth must be switched on before anything allocates
on the device; ``configure`` does it once, first thing when a model loads.
On a CPU-only install (the default ``tensorflow-cpu``) it does nothing.
"""

from __future__ import annotations

import threading

_done = False
_lock = threading.Lock()


def configure() -> list[str]:
    """Turn on memory growth for every visible GPU (idempotent); returns their names."""
    global _done
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    with _lock:
        if not _done:
            for g in gpus:
                try:
                    tf.config.experimental.set_memory_growth(g, True)
                except RuntimeError:  # already initialised by someone else: growth can no longer change
                    pass
            _done = True
    return [g.name for g in gpus]
