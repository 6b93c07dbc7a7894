"""``compare``: SHAP maps of the same images under several models, with focus scores (the poster)."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from . import command
from ..exports import write_csv
from ._shared import key_value, load_image_ref


def _arguments(c) -> None:
    c.add_argument("--model", action="append", required=True, help="a model (repeat for 1 to 4 models)")
    c.add_argument("--image", action="append", required=True,
                   help="DATASET:SPLIT:INDEX or an image file (repeat for 1 to 4 images)")
    c.add_argument("--target", default="true", choices=["true", "predicted"],
                   help="explain each image's true class (same for every model) or each model's prediction")
    c.add_argument("--output", default="probability", choices=["margin", "probability"])
    c.add_argument("--method", default=None, help="any registered explainer (default: SHAP Partition)")
    c.add_argument("--param", dest="params", action="append", type=key_value, default=[], metavar="NAME=VALUE",
                   help="a parameter of the method (repeatable); see `explainers`")
    c.add_argument("--max-evals", type=int, default=None, help="short for --param max_evals=N")
    c.add_argument("--masker", default=None, help="short for --param masker=NAME")
    c.add_argument("--sigma", type=float, default=0.0, help="Gaussian smoothing of the maps, in pixels")
    c.add_argument("--out", required=True, help="output .csv (one row per model and image); maps go to a .npz "
                                                "next to it")


@command("compare", "maps of the same images under several models (SHAP by default), with focus scores",
         _arguments)
def run(args) -> int:
    import numpy as np

    from ..compare import compare

    out = Path(args.out)
    if out.suffix != ".csv":
        raise InputError("--out must name a .csv file.")
    refs = [load_image_ref(r) for r in args.image]
    params = dict(args.params)
    params.update({k: v for k, v in (("max_evals", args.max_evals), ("masker", args.masker)) if v is not None})
    result = compare(args.model, [r[0] for r in refs], [r[1] for r in refs], [r[2] for r in refs],
                     [r[3] for r in refs], target=args.target, output=args.output, method=args.method,
                     params=params)
    table = result.table(args.sigma)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(table, out)
    maps = result.maps(args.sigma)
    npz = out.with_suffix(".npz")
    np.savez_compressed(npz, **{f"{m}|{t}": maps[i][j] for i, m in enumerate(result.models)
                                for j, t in enumerate(result.image_titles)})
    print(f"wrote {out} ({len(table)} rows) and {npz}")
    for _, r in table.iterrows():
        focus = "" if np.isnan(r["focus"]) else f"; focus {r['focus']:.2f} (chance {r['focus by chance']:.2f})"
        print(f"{r['model']} on {r['image']}: predicts {r['predicted']} ({r['probability']:.1%}), "
              f"explains {r['explained class']}{focus}")
    return 0
