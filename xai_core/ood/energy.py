"""Energy score (Liu et al., 2020, "Energy-based Out-of-distribution Detection").

E(x) = -logsumexp(logits): the model's logits are large for images like its
training data. Needs nothing but the margin; nothing to fit.
"""

from . import OOD_SCORES, OODScore, logsumexp

OOD_SCORES.register("energy", OODScore(
    name="energy", display_name="Energy of the logits",
    description="-logsumexp of the logits; low for images like the training data.",
    fit=lambda outputs: {},
    score=lambda state, outputs: -logsumexp(outputs["margin"])))
