"""The explainer contract: one class per method, one verb.

An explainer declares its user-facing parameters (``params``) so the pages,
the CLI and the contract tests can list and validate them without a second
table, and implements ``explain(model, image, classes, output, ...)``
returning an ``Explanation``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from ..explanation import Explanation
from ..params import Param, Progress, validate  # noqa: F401  (Param and Progress re-exported)


FAMILIES = ("gradient", "CAM", "perturbation", "SHAP")
SPACE_UNITS = {"margin": "logit", "probability": "probability"}


class Explainer(ABC):
    """One explanation method. Subclasses declare what the pages, the CLI and the cache need to know:

    - ``params``: the user-facing parameters (one schema for widgets, flags and validation);
    - ``family``: one of ``FAMILIES``;
    - ``unit``: what a value means, as a colour-bar label; ``{space}`` becomes "logit" or "probability";
    - ``additive``: whether base + sum(values) should equal the model's output, and ``completeness``:
      in words, what the base value is and so what the residual |base + sum - output| checks;
    - ``libraries``: the import names of the libraries it computes with (their versions enter the cache key).
    """

    name: ClassVar[str]
    display_name: ClassVar[str]
    description: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()
    family: ClassVar[str] = "perturbation"
    unit: ClassVar[str] = "attribution ({space})"
    additive: ClassVar[bool] = True  # base + sum(values) == output is part of the method's contract
    completeness: ClassVar[str] = ""
    # the largest relative residual the method guarantees (None: approximate, reported but not promised)
    residual_tolerance: ClassVar[float | None] = 1e-4
    libraries: ClassVar[tuple[str, ...]] = ()
    short_name: ClassVar[str | None] = None  # what headings call it where users say less ("SHAP"): see short_label
    # Rank among the methods a page selects before the user chooses (1 first); None: not selected by default.
    # Pages take the first n (``explainers.featured(n)``), so no page names a method.
    featured: ClassVar[int | None] = None
    # Differentiates the model (a tape over ``LoadedModel.scores``): its forward passes stay on TensorFlow
    # whatever backend is requested (models/openvino_backend.py serves black-box passes only).
    uses_gradients: ClassVar[bool] = False
    # A method that must first be trained for each model (an amortised explainer) names the action that trains
    # it ("Train the fast explainer"); pages offer it from the registry (``xai_core.training.amortise``).
    trained_per_model: ClassVar[str | None] = None

    @classmethod
    def unit_label(cls, output: str) -> str:
        """The colour-bar label for maps computed in ``output`` space, e.g. "IG attribution (logit)"."""
        return cls.unit.format(space=SPACE_UNITS.get(output, output))

    @classmethod
    def short_label(cls) -> str:
        """The method's name in a heading: ``short_name`` where one is usual, else ``display_name``."""
        return cls.short_name or cls.display_name

    @classmethod
    def describe(cls) -> dict:
        """Everything a page or ``explainers --json`` lists about the method."""
        return {"name": cls.name, "display_name": cls.display_name, "family": cls.family,
                "unit": cls.unit.format(space="{output}"), "additive": cls.additive,
                "completeness": cls.completeness, "residual_tolerance": cls.residual_tolerance,
                "libraries": list(cls.libraries),
                "description": cls.description,
                "params": {p.name: p.default for p in cls.params},
                "param_info": [{"name": p.name, "default": p.default, "type": p.type.__name__, "help": p.help,
                            **({"choices": list(p.options)} if p.choices else {}),
                            **({"min": p.min} if p.min is not None else {}),
                            **({"max": p.max} if p.max is not None else {})} for p in cls.params]}

    @classmethod
    def residual_promise(cls, params: dict) -> float | None:
        """The relative completeness residual a correct run with ``params`` stays under, or None where the
        method is additive only approximately (a sample mean, an adaptive path): shown, not promised.
        Exact methods promise float rounding (``residual_tolerance``); path integrals override this with
        their discretisation error at the step count used."""
        return cls.residual_tolerance if cls.additive else None

    @classmethod
    def residual_advice(cls, params: dict, residual: float, target: float) -> str:
        """One sentence on how to bring the residual under ``target`` ("" where no parameter does)."""
        return ""

    # What "hidden" means for this method's pixels, for the metrics that hide pixels (deletion, insertion,
    # faithfulness correlation): None = shap's default blur(20,20); otherwise overridden in ``reference_image``.
    @classmethod
    def reference_image(cls, explanation, image: np.ndarray) -> tuple[np.ndarray, str] | None:
        """(H, W, C) float32 image the method itself shows for absent pixels, and its plain name; None: the
        metrics' default (``xai_core.metrics._baseline``)."""
        return None

    # The colours a map of this method is drawn and printed in: "shap" (red raises the class score, blue
    # lowers it), "pro_con" (LIME's green supports the class, red speaks against it) -- see
    # plots.base.PALETTES -- or the method's own (Plotly colour scale, sentence explaining the colours).
    palette: ClassVar = "shap"

    @classmethod
    def quality(cls, expl) -> tuple[str, float] | None:
        """The one number that says how far to trust this map: the completeness residual for additive
        methods, a fit score where the method has one (LIME's R^2), else None."""
        if cls.additive:
            return "residual", float(expl.relative_residuals.max())
        if "score" in expl.extras:
            return "fit R²", float(np.min(expl.extras["score"]))
        return None
    # The parameter that sets a sampling method's budget (maps get finer as it grows), or None;
    # ``xai_core.progressive`` refines such methods step by step.
    budget_param: ClassVar[str | None] = None

    @classmethod
    def state(cls, model, params: dict, output: str) -> str | None:
        """What a map depends on besides the model, image and parameters (the network an amortised explainer
        was trained into), as a short token that enters the cache key; None: nothing. Never raises."""
        return None

    @classmethod
    def validate(cls, params: dict) -> dict:
        """Fill in defaults and check every parameter; unknown names are refused."""
        return validate(cls.params, params, cls.name)

    @classmethod
    def cost_note(cls, model, image: np.ndarray, params: dict) -> str | None:
        """One sentence on what explaining ``image`` (fitted to ``model``) will cost with these validated
        ``params``, for a page to show before computing, where the cost depends on the image; else None."""
        return None

    def result(self, model, image: np.ndarray, classes, output: str, *, values, base_values, output_values,
               params: dict, seconds: float, extras: dict | None = None, info: dict | None = None) -> Explanation:
        """This method's ``Explanation`` of ``classes`` of ``model`` on ``image`` in ``output`` space: the
        envelope (class names, output space, method, model name, the image) is filled in here, once."""
        classes = np.asarray(classes, np.int64)
        return Explanation(values=values, base_values=base_values, output_values=output_values,
                           class_indices=classes, class_names=[model.class_names[i] for i in classes],
                           output_space=output, method=self.name, params=params, seconds=seconds, image=image,
                           model_name=model.name, extras=extras or {}, info=info or {})

    @abstractmethod
    def explain(self, model, image: np.ndarray, classes: np.ndarray, output: str,
                progress: Progress | None = None, **params):
        """Explain ``image`` (H, W, C, 0..255, already fitted to the model) for ``classes``."""
