"""Where a user's model keeps its out-of-domain reference, and reading it back (``domain_reference`` fits it).

A private module of ``ood`` (the score registry discovers only public modules). Kept in the ``ood`` layer so ``domain.ood_detector`` can read a stored reference without importing the
fitting workflow (which imports ``domain``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import InputError
from . import PERCENTILE, Detector

REFERENCE_FILE = "ood_reference.npz"
MIN_SCANS = 50
HOW_TO_ADD = ("add one on *Your models and data* (Adjust → Out-of-domain reference: a registered dataset, or a "
              f"folder or zip of at least {MIN_SCANS} typical training scans), or run "
              "`python -m xai_core ood-reference --model NAME --from DATASET_OR_FOLDER`.")


def reference_path(model) -> Path | None:
    """Where ``model``'s reference lives: beside its model file (None for a model held only in memory)."""
    path = getattr(model, "path", "")
    return Path(path).with_name(REFERENCE_FILE) if path else None


def missing_message(model) -> str:
    return (f"{model.name} does not say which registered dataset it was trained on and has no out-of-domain "
            f"reference yet; {HOW_TO_ADD}")


def load_reference(model) -> Detector | None:
    """The stored reference of ``model`` (a ``LoadedModel``), or None (none stored, or for another file)."""
    p = reference_path(model)
    if p is None or not p.is_file():
        return None
    with np.load(p, allow_pickle=False) as z:
        head = json.loads(str(z["head"]))
        if head.get("model_hash") != model.file_hash:
            return None  # fitted for another version of the model file
        state = {k[len("state."):]: z[k] for k in z.files if k.startswith("state.")}
        return Detector(method=head["method"], model_name=model.name, dataset=head["dataset"], state=state,
                        threshold=float(head["threshold"]), val_scores=z["val_scores"], test_scores=z["test_scores"],
                        percentile=float(head.get("percentile", PERCENTILE)), info=head.get("info", {}))


def write_reference(model, detector: Detector) -> Path:
    """Store ``detector`` beside the model file (atomically)."""
    p = reference_path(model)
    if p is None:
        raise InputError(f"{model.name} is not stored in a folder, so its reference cannot be kept with it.")
    head = {"method": detector.method, "dataset": detector.dataset, "threshold": detector.threshold,
            "percentile": detector.percentile, "model_hash": model.file_hash, "info": detector.info}
    tmp = p.with_name(p.name + ".tmp.npz")
    np.savez(tmp, head=np.array(json.dumps(head, default=str)), val_scores=np.asarray(detector.val_scores),
             test_scores=np.asarray(detector.test_scores),
             **{f"state.{k}": np.asarray(v) for k, v in detector.state.items()})
    tmp.replace(p)
    return p
