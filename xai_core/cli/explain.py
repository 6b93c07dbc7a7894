"""``explain``: explain one image with any registered method and write an ``.npz``.

Every parameter of every method is a flag (``--max-evals 300``, ``--steps 128``),
and ``--param NAME=VALUE`` (repeatable) passes any of them generically;
``--param segmenter_params.n_segments=8`` sets one key of a dict parameter.
Values are checked by the method's own ``Param`` schema, so a bad one exits 2
with one line, and a flag the chosen method does not take is refused by name.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..params import refuse_unknown
from . import command
from ._shared import key_value, load_image


def explainer_params() -> dict:
    """Every parameter any registered explainer takes, by name (the CLI flags come from the registry)."""
    from ..explainers import EXPLAINERS

    params = {}
    for _, cls in EXPLAINERS.items():
        for p in cls.params:
            params.setdefault(p.name, p)
    return params


def _arguments(e) -> None:
    from ..explainers import EXPLAINERS

    e.add_argument("--model", required=True, help="shipped model name, model folder or .keras file")
    e.add_argument("--image", required=True, help="image file, or DATASET:SPLIT:INDEX (e.g. synthetic-brain-mri:test:0)")
    e.add_argument("--method", default="shap-partition", choices=EXPLAINERS.names())
    e.add_argument("--output", default="margin", choices=["margin", "probability"])
    e.add_argument("--top-k", type=int, default=None, help="explain the K most probable classes (default 4)")
    e.add_argument("--classes", default=None, help="comma-separated class names or indices instead of --top-k")
    e.add_argument("--param", dest="generic_params", action="append", type=key_value, default=None,
                   metavar="NAME=VALUE", help="any parameter of the method (repeatable); see `explainers`")
    for name, p in explainer_params().items():
        if p.type is dict:  # e.g. --segmenter-param n_segments=80 --segmenter-param compactness=5
            e.add_argument(f"--{name.replace('_', '-').removesuffix('s')}", dest=name, action="append",
                           type=key_value, default=None, metavar="NAME=VALUE", help=f"{p.help} (repeatable)")
        else:  # read as text; the method's Param converts and checks it (bool flags accept true/false)
            e.add_argument(f"--{name.replace('_', '-')}", dest=name, default=None, metavar=p.type.__name__.upper(),
                           help=f"{p.help} (default {p.default})")
    e.add_argument("--slices", default=None, metavar="all|A-B",
                   help="for a study (zip of a DICOM series, series folder, .nii/.nii.gz, multi-frame .dcm): the "
                        "slices to explain, numbered from 1 (default all); the .npz holds the map volume and its "
                        "maximum-intensity projection")
    e.add_argument("--plane", default=None, help="for a study: the plane to slice (default: as acquired)")
    e.add_argument("--display-window", dest="display_window", default=None,
                   help="for a grey study: the display window (file, full, a preset name or CENTRE,WIDTH)")
    e.add_argument("--class", dest="map_class", default=None,
                   help="for a study: the class whose maps are stacked (default: the most suspicious one)")
    e.add_argument("--no-cache", action="store_true", help="recompute even if a cached result exists")
    e.add_argument("--out", required=True, help="output .npz file")


def gather_params(args, cls) -> dict:
    """The method's parameters from the named flags and ``--param``; unknown names refused in one line."""
    accepted = {p.name: p for p in cls.params}
    given = {k: getattr(args, k) for k in explainer_params() if getattr(args, k, None) is not None}
    given = {k: dict(v) if isinstance(v, list) else v for k, v in given.items()}
    for key, value in args.generic_params or []:
        name, _, sub = key.replace("-", "_").partition(".")
        refuse_unknown(cls.params, [name], cls.name)
        if sub or accepted[name].type is dict:
            if not sub:
                raise InputError(f"Give {name} one key at a time: --param {name}.KEY=VALUE.")
            given.setdefault(name, {})[sub] = value
        else:
            given[name] = value
    stray = sorted(set(given) - set(accepted))
    if stray:
        raise InputError(f"{cls.name} does not take {', '.join('--' + s.replace('_', '-') for s in stray)}.")
    return given


@command("explain", "explain one image and write an .npz", _arguments)
def run(args) -> int:
    from .. import api
    from ..explainers import EXPLAINERS

    cls = EXPLAINERS.get(args.method)
    given = gather_params(args, cls)
    from ._volume import is_volume_source

    if is_volume_source(args.image):
        return _run_volume(args, given)
    if args.slices is not None:
        raise InputError("--slices needs a study: a zip of a DICOM series, a series folder, a NIfTI file or a "
                         "multi-frame DICOM file.")
    image = load_image(args.image)
    classes = [c.strip() for c in args.classes.split(",") if c.strip()] if args.classes else None
    out = Path(args.out)
    if out.suffix != ".npz":
        raise InputError("--out must name a .npz file.")
    expl = api.explain(args.model, image, method=args.method, output=args.output, top_k=args.top_k,
                       classes=classes, cache=None if args.no_cache else api.DEFAULT_CACHE, **given)
    expl.save(out)
    print(f"wrote {out} ({expl.method}, {expl.output_space}, {expl.seconds:.2f} s{', cached' if expl.cached else ''}; "
          f"values in {cls.unit_label(expl.output_space)})")
    if cls.additive:
        print(f"max additivity residual {expl.residuals.max():.2e}; " + ", ".join(
            f"{n}: base {b:+.4f} + sum {s:+.4f} = {o:+.4f}" for n, b, s, o in zip(
                expl.class_names, expl.base_values, expl.values.reshape(len(expl.values), -1).sum(1),
                expl.output_values)))
    if "score" in expl.extras:
        from ..gates import fit_score

        fits = [fit_score(expl, k) for k in range(len(expl.class_names))]  # NaN: no fit on a constant target
        print(f"{expl.info.get('features', '?')} superpixels; " + ", ".join(
            (f"{n}: fit R^2 {s:.3f}" if s == s else f"{n}: no fit (the output does not move)")
            + f", local prediction {lp:.4f} vs model {o:.4f}" for n, s, lp, o in zip(
                expl.class_names, fits, expl.extras["local_pred"], expl.output_values)))
    return 0


def _run_volume(args, given: dict) -> int:
    """Every chosen slice of a study: scores per slice (most suspicious first) and a map volume in one .npz."""
    from .. import api, slices
    from ..models import load_model
    from ._volume import load_volume, volume_window

    out = Path(args.out)
    if out.suffix != ".npz":
        raise InputError("--out must name a .npz file.")
    vol = load_volume(args.image)
    planes = vol.planes()
    if args.plane is not None and args.plane not in planes:
        raise InputError(f"--plane must be one of {', '.join(planes)} for this study; got {args.plane!r}.")
    plane = args.plane or planes[0]
    idx = slices.parse_slices(args.slices, vol.count(plane))
    images = slices.slice_images(vol, idx, plane, volume_window(vol, args.display_window))
    lm = load_model(args.model)
    scores = slices.score_slices(lm, images, idx)
    maps = slices.explain_slices(lm, images, idx, args.method, args.output, class_name=args.map_class,
                                 cache=None if args.no_cache else api.DEFAULT_CACHE, **given)
    maps.save(out, scores)
    ranked = scores.table()
    print(f"wrote {out}: {len(idx)} {plane} slices of {len(vol)}, {args.method} maps of {maps.class_name!r} "
          f"({maps.unit}) and their maximum-intensity projection")
    print("most suspicious first (" + scores.suspicion_label + "): " + ", ".join(
        f"slice {int(r.slice)} {r.suspicion:.3f}" for r in ranked.head(5).itertuples()))
    return 0
