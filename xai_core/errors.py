"""Errors that carry a message meant for a person, not a traceback.

Everything the user can cause (an unknown name, a bad file, an impossible
parameter) raises an ``XAIError``. The CLI turns it into ``error: ...`` and
exit status 2; the pages turn it into one ``st.error`` sentence.
"""


class XAIError(Exception):
    """Base class: ``str(err)`` is one plain sentence for the user."""


class InputError(XAIError, ValueError):
    """The user gave something we cannot use (unknown name, bad parameter)."""


class ImageError(InputError):
    """An image could not be read, or is outside the limits."""


class ModelError(XAIError):
    """A model could not be loaded or does not fit the contract."""


class Cancelled(XAIError):
    """The user stopped the computation, or it ran past its time limit; what finished before stays valid."""
