"""When the evidence beside a map must not be read, and the one line that says why.

A metric's number is evidence only when three things hold, checked in this order:

1. **The scan is inside the model's training domain** (``xai_core.domain``). Outside it the model's answer
   is a guess, and so is every statement about how it reached it: deletion can "pass" on a scan the model
   should never judge. Every verdict then reads ``not applicable: outside the training domain``; the
   values stay available on request (``withheld``).
2. **The model's output moves on this scan.** ``output_spread`` scores the explained class on the scan and
   on a few drastic alterations of it (black, inverted, flattened to its mean, pixels shuffled in blocks,
   noise). If none moves the score by ``magnitude.NEGLIGIBLE_FRACTION`` of its scale (0.01 probability or
   logit), the model does not respond to this scan at all (an untrained network, a last layer scaled to
   nothing), and any map of it, however it is normalised, shows the estimator's noise. Normalising methods
   (Grad-CAM, XRAI, LIME's weights) stretch such noise to full colour, so the map's own size cannot be
   trusted to reveal it; the model's output can.
3. **The map is not negligible** (the rule of ``xai_core.magnitude``).

``api.explain`` stamps the spread into ``Explanation.info`` so plots and cards read it without the model.
"""

from __future__ import annotations

import numpy as np

OUT_OF_DOMAIN = "outside the training domain"
FLAT_OUTPUT = "the model's output does not move on this scan"
NEGLIGIBLE = "the map is negligible (it says nothing)"
SPREAD_KEY = "output_spread"  # Explanation.info: (K,) list, how far the probes moved each explained class


def probe_images(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """The scan (H, W, C, 0..255) and five drastic alterations of it, as one (6, H, W, C) float32 batch."""
    x = np.asarray(x, np.float32)
    h, w = x.shape[:2]
    rng = np.random.default_rng(seed)
    b = max(1, min(h, w) // 8)  # 8x8 blocks of the image, shuffled: the parts are there, the layout is not
    hb, wb = h // b * b, w // b * b
    blocks = x[:hb, :wb].reshape(hb // b, b, wb // b, b, -1).transpose(0, 2, 1, 3, 4).reshape(-1, b, b, x.shape[2])
    blocks = blocks[rng.permutation(len(blocks))].reshape(hb // b, wb // b, b, b, -1).transpose(0, 2, 1, 3, 4)
    shuffled = x.copy()
    shuffled[:hb, :wb] = blocks.reshape(hb, wb, -1)
    return np.stack([x, np.zeros_like(x), 255.0 - x, np.full_like(x, x.mean()), shuffled,
                     rng.uniform(0, 255, x.shape).astype(np.float32)])


def output_spread(model, x: np.ndarray, classes, space: str) -> np.ndarray:
    """(K,) max - min of each class's score (in ``space``) over the scan and its probes."""
    from .models import as_model

    scores = as_model(model).output_fn(space)(probe_images(x))[:, np.asarray(classes, np.int64)]
    return np.ptp(np.asarray(scores, np.float64), axis=0)


def stamp(model, expl) -> None:
    """Record ``output_spread`` of the explained classes in ``expl.info`` (once; a few forward passes)."""
    if SPREAD_KEY in expl.info or expl.image is None:
        return
    expl.info[SPREAD_KEY] = [float(v) for v in output_spread(model, expl.image, expl.class_indices,
                                                             expl.output_space)]


def reason(expl, out_of_domain: bool = False, k: int = 0) -> str:
    """Why class ``k``'s map carries no evidence ('' when it may be read): see the module docstring."""
    from .magnitude import flat_output, negligible

    if out_of_domain:
        return OUT_OF_DOMAIN
    if flat_output(expl)[k]:
        return FLAT_OUTPUT
    if negligible(expl)[k]:
        return NEGLIGIBLE
    return ""


def withhold(results: dict, why: str) -> dict:
    """Every result turned into ``not applicable: <why>``; the computed one is kept under
    ``details['withheld']`` (values on request, never a verdict)."""
    from .metrics import METRICS

    if not why:
        return results
    out = {}
    for name, r in results.items():
        g = METRICS.get(name).not_applicable(why) if name in METRICS else None
        if g is None:
            continue
        g.details = {"withheld": r.to_json(), "reason": why}
        out[name] = g
    return out


def withheld(result):
    """The result computed before ``withhold`` hid it, or None."""
    from .metrics import MetricResult

    text = (result.details or {}).get("withheld")
    return MetricResult.from_json(text) if isinstance(text, str) else None


def reason_of(result) -> str:
    """The gate's reason on a withheld result ('' for an ordinary one)."""
    return str((result.details or {}).get("reason", ""))


NO_FIT = "no fit: the model's output does not move here, so R² would measure noise"


def fit_score(expl, k: int = 0) -> float:
    """LIME's local-fit R² of class ``k``, or NaN where the map says nothing: against a target that does
    not move (``magnitude.negligible``), R² scores how well a line fits rounding noise, not the model."""
    from .magnitude import negligible

    score = expl.extras.get("score")
    if score is None or negligible(expl)[k]:
        return float("nan")
    return float(np.asarray(score)[k])
