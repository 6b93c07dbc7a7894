"""Maximum softmax probability (Hendrycks & Gimpel, 2017): the classic baseline.

Score = 1 - max probability. Weak when a model is confidently wrong on a new
domain, which is exactly the paper's brain-model-on-lung-CT situation.
"""

from . import OOD_SCORES, OODScore

OOD_SCORES.register("max-softmax", OODScore(
    name="max-softmax", display_name="1 - top probability",
    description="How unsure the model is; fails when a model is confidently wrong on a new domain.",
    fit=lambda outputs: {},
    score=lambda state, outputs: 1.0 - outputs["probability"].max(-1)))
