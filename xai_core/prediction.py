"""A prediction in words, honest about ties.

An untrained (or badly trained) model can give several classes the same probability; naming the one
``argmax`` happens to return ("glioma (25.0%)") then claims a decision the model did not make.
"""

from __future__ import annotations

import numpy as np

TIE = 5e-4  # classes whose probabilities print the same at one decimal of a percent are tied


def tied_top(probabilities) -> list[int]:
    """Indices of the classes tied for the highest probability (one index when there is a clear winner)."""
    p = np.asarray(probabilities, np.float64).ravel()
    return [int(i) for i in np.flatnonzero(p >= p.max() - TIE)]


def prediction_words(class_names, probabilities) -> str:
    """'glioma (62.0%)', or 'a tie: glioma, meningioma and pituitary at 33.3% each'."""
    p = np.asarray(probabilities, np.float64).ravel()
    top = tied_top(p)
    if len(top) == 1:
        return f"{class_names[top[0]]} ({p[top[0]]:.1%})"
    names = [str(class_names[i]) for i in top]
    listed = ", ".join(names[:-1]) + f" and {names[-1]}"
    every = "every class" if len(top) == len(p) else listed
    return f"a tie: {every} at {p[top[0]]:.1%} each" + (f" ({listed})" if every == "every class" else "")


def percentage_points(change: float, digits: int = 1) -> str:
    """A difference of two proportions in percentage points: -0.162 -> '-16.2 pp' (not '-16.2%', which
    would be a relative change)."""
    return f"{100.0 * change:+.{digits}f} pp"
