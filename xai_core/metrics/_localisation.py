"""Shared verdict rule of the localisation metrics: judged against the mask's area share (chance)."""

from __future__ import annotations

import numpy as np


def against_chance(value: float, chance: float) -> tuple[str, str]:
    """pass: at least halfway from chance to perfect; warn: at least twice chance; else fail."""
    pass_at = chance + (1 - chance) / 2
    warn_at = min(2 * chance, pass_at)
    if not np.isfinite(value):
        verdict = "n/a"
    else:
        verdict = "pass" if value >= pass_at else "warn" if value >= warn_at else "fail"
    return verdict, f"pass >= {pass_at:.3g} (halfway from chance to 1), warn >= {warn_at:.3g} (2x chance)"
