"""Plain-language notes for class handouts, in the words the pages use (one entry per topic)."""

from __future__ import annotations

HANDOUTS: dict[str, dict] = {
    "shap": {
        "title": "Class handout: SHAP in margin and probability space",
        "notes": [
            ("What the model gives",
             "A classifier first gives every class a score, the margin (or logit). Softmax then squashes the "
             "scores into probabilities that add up to 1."),
            ("What SHAP shows",
             "SHAP shares out the change from a blurred-out scan (the base value) to this scan among the pixels. "
             "Red pixels raise the class's output, blue pixels lower it. The base value plus the sum of the map "
             "equals the model's output: the residual printed under each map says how exactly."),
            ("Margin versus probability",
             "In margin space the credit is evidence, and it adds up without limit. In probability space the same "
             "evidence counts for little once the model is already sure (98% to 99% needs far more evidence than "
             "40% to 50%), so the maps of confident or unlikely classes look faint. Read the margin map for what "
             "the model uses, the probability map for what moves this decision."),
            ("How fine the map is",
             "SHAP evaluates the model on a limited number of masked images (max_evals). Below one evaluation per "
             "pixel, regions share their credit evenly, so more evaluations give finer maps."),
        ],
    },
    "lime": {
        "title": "Class handout: LIME and its segmenters",
        "notes": [
            ("What LIME does",
             "LIME explains one prediction by hiding random groups of pixels (superpixels) and fitting a simple "
             "weighted linear model to how the class output changes. Each superpixel gets one weight: green "
             "superpixels support the class, red ones speak against it."),
            ("What a segmenter does",
             "A segmenter cuts the scan into superpixels: patches of similar neighbouring pixels. LIME hides whole "
             "superpixels, so their size matters: a huge superpixel that mixes an important detail with "
             "background gets all the credit or none. The source thesis found Quickshift and the watershed "
             "segmenters gave poor, unequal superpixels, while Felzenszwalb and SLIC worked."),
            ("How far to trust the weights",
             "The fit R² says how well the linear model matches the network near this scan (1 = perfectly; below "
             "about 0.3 the weights say little). LIME is random: repeating it with other seeds shows how much the "
             "weights move."),
            ("Margin versus probability",
             "LIME explains the probability by default. A probability near 0 or 1 barely moves when superpixels "
             "are hidden; the margin (the class score before softmax) shows what the score responds to."),
        ],
    },
}
