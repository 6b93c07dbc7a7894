"""``python -m xai_core``: the command line, a thin layer over the public API.

Every user mistake exits with status 2 and one ``error: ...`` line on
stderr; ``--debug`` shows tracebacks for bugs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from .errors import InputError, XAIError

IMAGE_REF = re.compile(r"^(?P<dataset>.+):(?P<split>train|val|test):(?P<index>\d+)$")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2, like every other user error
        self.exit(2, f"error: {message}\n")


def _explainer_params() -> dict:
    """Every parameter any registered explainer takes, by name (the CLI flags come from the registry)."""
    from .explainers import EXPLAINERS

    params = {}
    for _, cls in EXPLAINERS.items():
        for p in cls.params:
            params.setdefault(p.name, p)
    return params


def _key_value(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def build_parser() -> argparse.ArgumentParser:
    from .explainers import EXPLAINERS

    ap = _Parser(prog="python -m xai_core", description="Explain image classifiers with SHAP and LIME.")
    ap.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)

    e = sub.add_parser("explain", help="explain one image and write an .npz")
    e.add_argument("--model", required=True, help="shipped model name, model folder or .keras file")
    e.add_argument("--image", required=True, help="image file, or DATASET:SPLIT:INDEX (e.g. synthetic-brain-mri:test:0)")
    e.add_argument("--method", default="shap-partition", choices=EXPLAINERS.names())
    e.add_argument("--output", default="margin", choices=["margin", "probability"])
    e.add_argument("--top-k", type=int, default=None, help="explain the K most probable classes (default 4)")
    e.add_argument("--classes", default=None, help="comma-separated class names or indices instead of --top-k")
    for name, p in _explainer_params().items():
        if p.type is dict:  # e.g. --segmenter-param n_segments=80 --segmenter-param compactness=5
            e.add_argument(f"--{name.replace('_', '-').removesuffix('s')}", dest=name, action="append",
                           type=_key_value, default=None, metavar="NAME=VALUE", help=f"{p.help} (repeatable)")
        else:
            e.add_argument(f"--{name.replace('_', '-')}", dest=name, type=p.type, default=None,
                           help=f"{p.help} (default {p.default})")
    e.add_argument("--no-cache", action="store_true", help="recompute even if a cached result exists")
    e.add_argument("--out", required=True, help="output .npz file")

    for name, what in (("datasets", "registered datasets"), ("models", "shipped and user models"),
                       ("explainers", "registered explanation methods"),
                       ("architectures", "registered architectures")):
        s = sub.add_parser(name, help=f"list {what}")
        s.add_argument("--json", action="store_true", help="machine-readable output")

    x = sub.add_parser("cross-domain", help="run a model over another dataset: probabilities, groups, "
                                            "out-of-domain scores (CSV + summary JSON)")
    x.add_argument("--model", required=True, help="shipped model name, model folder or .keras file")
    x.add_argument("--dataset", required=True, help="the (target) dataset to run it on")
    x.add_argument("--split", default="test", choices=["train", "val", "test"])
    x.add_argument("--group", action="append", default=None, metavar="NAME=CLASS,CLASS",
                   help="a class group whose probabilities are summed, e.g. tumor=glioma,meningioma,pituitary "
                        "(repeatable)")
    x.add_argument("--ood", default=None, help="out-of-domain score (default mahalanobis)")
    x.add_argument("--out", required=True, help="output .csv; the summary goes next to it as .json")

    v = sub.add_parser("evaluate", help="classification metrics of a model on a dataset split")
    v.add_argument("--model", required=True, help="shipped model name, model folder or .keras file")
    v.add_argument("--dataset", default=None, help="dataset (default: the one the model was trained on)")
    v.add_argument("--split", default="test", choices=["train", "val", "test"])
    v.add_argument("--json", action="store_true", help="print every figure as JSON")

    c = sub.add_parser("compare", help="SHAP maps of the same images under several models, with focus scores")
    c.add_argument("--model", action="append", required=True, help="a model (repeat for 1 to 4 models)")
    c.add_argument("--image", action="append", required=True,
                   help="DATASET:SPLIT:INDEX or an image file (repeat for 1 to 4 images)")
    c.add_argument("--target", default="true", choices=["true", "predicted"],
                   help="explain each image's true class (same for every model) or each model's prediction")
    c.add_argument("--output", default="probability", choices=["margin", "probability"])
    c.add_argument("--max-evals", type=int, default=1000)
    c.add_argument("--masker", default="blur(20,20)")
    c.add_argument("--sigma", type=float, default=0.0, help="Gaussian smoothing of the maps, in pixels")
    c.add_argument("--out", required=True, help="output .csv (one row per model and image); maps go to a .npz "
                                                "next to it")

    im = sub.add_parser("import-model", help="check a .keras/.h5 file in safe mode and add it to your models")
    im.add_argument("--file", required=True, help="the .keras (or legacy .h5) file")
    im.add_argument("--name", required=True, help="name in the model picker")
    im.add_argument("--labels", default=None, help="class names: .txt (one per line) or .json")
    im.add_argument("--scale", default=None, help="pixel scaling: 0-1, 0-255, -1-1, torch or caffe")
    im.add_argument("--size", default=None, metavar="HxW", help="input size, for models that accept any size")
    im.add_argument("--replace", action="store_true", help="replace a model of yours with the same name")

    ad = sub.add_parser("add-dataset", help="unpack a zip (or check a folder) of class subfolders under the "
                                            "data roots")
    src = ad.add_mutually_exclusive_group(required=True)
    src.add_argument("--zip", help="a .zip of a dataset folder")
    src.add_argument("--folder", help="a folder under the data roots")

    t = sub.add_parser("train", help="train an architecture on a dataset")
    t.add_argument("--dataset", required=True)
    t.add_argument("--arch", required=True, help="a registered architecture (see `architectures`)")
    t.add_argument("--epochs", type=int, default=30, help="most epochs; early stopping usually ends sooner")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--limit", type=int, default=None, help="use at most N images per split (quick runs)")
    t.add_argument("--learning-rate", type=float, default=None, help="default: the architecture's own")
    t.add_argument("--out", default=None,
                   help="output folder for model.keras and metadata.json (default: the user models folder, "
                        "named DATASET-ARCH)")
    return ap


def _load_image_ref(ref: str):
    """(image, title, true class name or None, lesion mask or None) for DATASET:SPLIT:INDEX or a file."""
    from .data import DATASETS, load_dataset
    from .data.images import read_scan

    m = IMAGE_REF.match(ref)
    if m and (m["dataset"] in DATASETS or m["dataset"].startswith("folder:")):
        ds = load_dataset(m["dataset"])
        image = ds.image(m["split"], int(m["index"]))
        s = ds.split(m["split"])
        mask = s.masks[int(m["index"])] if s.masks is not None else None
        return image, ref, ds.class_names[s.labels[int(m["index"])]], mask
    if not Path(ref).is_file():
        raise InputError(f"{ref!r} is neither an image file nor DATASET:SPLIT:INDEX.")
    return read_scan(ref)[0], Path(ref).name, None, None


def _load_image(ref: str):
    return _load_image_ref(ref)[0]


def _cmd_explain(args) -> int:
    from . import api
    from .explainers import EXPLAINERS

    cls = EXPLAINERS.get(args.method)
    accepted = {p.name for p in cls.params}
    given = {k: getattr(args, k) for k in _explainer_params() if getattr(args, k) is not None}
    given = {k: dict(v) if isinstance(v, list) else v for k, v in given.items()}
    stray = sorted(set(given) - accepted)
    if stray:
        raise InputError(f"{args.method} does not take {', '.join('--' + s.replace('_', '-') for s in stray)}.")
    image = _load_image(args.image)
    classes = [c.strip() for c in args.classes.split(",") if c.strip()] if args.classes else None
    out = Path(args.out)
    if out.suffix != ".npz":
        raise InputError("--out must name a .npz file.")
    expl = api.explain(args.model, image, method=args.method, output=args.output, top_k=args.top_k,
                       classes=classes, cache=None if args.no_cache else api.DEFAULT_CACHE, **given)
    expl.save(out)
    print(f"wrote {out} ({expl.method}, {expl.output_space}, {expl.seconds:.2f} s{', cached' if expl.cached else ''})")
    if cls.additive:
        print(f"max additivity residual {expl.residuals.max():.2e}; " + ", ".join(
            f"{n}: base {b:+.4f} + sum {s:+.4f} = {o:+.4f}" for n, b, s, o in zip(
                expl.class_names, expl.base_values, expl.values.reshape(len(expl.values), -1).sum(1),
                expl.output_values)))
    if "score" in expl.extras:
        print(f"{expl.info.get('features', '?')} superpixels; " + ", ".join(
            f"{n}: fit R^2 {s:.3f}, local prediction {lp:.4f} vs model {o:.4f}" for n, s, lp, o in zip(
                expl.class_names, expl.extras["score"], expl.extras["local_pred"], expl.output_values)))
    return 0


def _table(rows: list[dict], cols: list[str]) -> str:
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols] if rows else [len(c) for c in cols]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(str(r.get(c, "")).ljust(w) for c, w in zip(cols, widths)) for r in rows]
    return "\n".join(lines)


def _cmd_list(args) -> int:
    if args.command == "datasets":
        from .data import list_datasets

        from .data.folder import list_folder_datasets

        rows = list_datasets() + [{"name": n, "domain": "folder", "classes": [], "description": "dataset folder"}
                                  for n in list_folder_datasets()]
        cols = ["name", "domain", "classes", "description"]
        for r in rows:
            r["classes"] = ",".join(r["classes"]) if not args.json else r["classes"]
    elif args.command == "models":
        from .models import list_models

        rows, cols = list_models(), ["name", "source", "dataset", "arch", "test_accuracy"]
    elif args.command == "explainers":
        from .explainers import EXPLAINERS

        rows = [{"name": n, "display_name": c.display_name, "description": c.description,
                 "params": {p.name: p.default for p in c.params}} for n, c in EXPLAINERS.items()]
        cols = ["name", "display_name", "params"]
    else:
        from .models.architectures import ARCHITECTURES

        rows = [{"name": n, "description": a.description} for n, a in ARCHITECTURES.items()]
        cols = ["name", "description"]
    print(json.dumps(rows, indent=2) if args.json else _table(rows, cols))
    return 0


def _cmd_cross_domain(args) -> int:
    from .cross_domain import cross_domain
    from .ood import DEFAULT_SCORE, OOD_SCORES

    out = Path(args.out)
    if out.suffix != ".csv":
        raise InputError("--out must name a .csv file.")
    ood = args.ood or DEFAULT_SCORE
    OOD_SCORES.get(ood)
    result = cross_domain(args.model, args.dataset, args.split, groups="; ".join(args.group or []), ood=ood)
    out.parent.mkdir(parents=True, exist_ok=True)
    result.table.to_csv(out, index=False)
    summary_path = out.with_suffix(".json")
    summary_path.write_text(json.dumps(result.summary, indent=2))
    o = result.summary["ood"]
    print(f"wrote {out} ({len(result.table)} rows) and {summary_path}")
    print("arg-max: " + ", ".join(f"{k} {v}" for k, v in result.summary["argmax_counts"].items()))
    if o["available"]:
        auroc = f"AUROC {o['auroc']:.3f} against {o['reference_dataset']} test" if o["auroc"] is not None else \
            "this is the model's own dataset"
        print(f"outside the training domain: {o['flagged_fraction']:.1%} of images ({o['method']}; {auroc})")
    else:
        print(f"no out-of-domain score: {o['reason']}")
    return 0


def _cmd_evaluate(args) -> int:
    from .evaluation import evaluate
    from .models import load_model

    lm = load_model(args.model)
    dataset = args.dataset or lm.metadata.dataset
    if not dataset:
        raise InputError(f"{lm.name} does not say which dataset it was trained on; pass --dataset.")
    r = evaluate(lm, dataset, args.split)
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    print(f"{r['model']} on {r['dataset']}:{r['split']} ({r['n']} images)")
    print("  ".join(f"{k} {r[k]:.4f}" for k in ("accuracy", "balanced_accuracy", "cohen_kappa", "log_loss", "mse",
                                                "macro_f1") if r[k] is not None))
    rows = [{k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in row.items()} for row in r["per_class"]]
    print(_table(rows, ["class", "support", "accuracy", "precision", "recall", "f1", "auc_ovr"]))
    return 0


def _cmd_compare(args) -> int:
    import numpy as np

    from .compare import compare

    out = Path(args.out)
    if out.suffix != ".csv":
        raise InputError("--out must name a .csv file.")
    refs = [_load_image_ref(r) for r in args.image]
    result = compare(args.model, [r[0] for r in refs], [r[1] for r in refs], [r[2] for r in refs],
                     [r[3] for r in refs], target=args.target, output=args.output, max_evals=args.max_evals,
                     masker=args.masker)
    table = result.table(args.sigma)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
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


def _cmd_import_model(args) -> int:
    from .models.importing import import_model, parse_labels

    path = Path(args.file)
    if not path.is_file():
        raise InputError(f"{args.file} is not a file.")
    names = parse_labels(Path(args.labels).read_text(errors="replace")) if args.labels else None
    size = None
    if args.size:
        m = re.fullmatch(r"(\d+)[xX](\d+)", args.size.strip())
        if not m:
            raise InputError("--size must look like 224x224.")
        size = (int(m[1]), int(m[2]))
    dest = import_model(path.read_bytes(), path.name, args.name, names, args.scale, size, args.replace)
    from .models import load_model

    lm = load_model(dest)
    print(f"added {args.name} ({dest}): input {lm.input_shape}, scaling {lm.metadata.input_scale}, classes "
          f"{', '.join(lm.class_names)}")
    return 0


def _cmd_add_dataset(args) -> int:
    from .data.archive import extract_zip
    from .data.folder import load_folder

    if args.zip:
        path = Path(args.zip)
        if not path.is_file():
            raise InputError(f"{args.zip} is not a file.")
        folder = extract_zip(path.read_bytes(), path.name)
    else:
        folder = args.folder

    def progress(f, msg):
        print(f"\r{msg}", end="", file=sys.stderr, flush=True)

    ds = load_folder(folder, progress=progress)
    print(file=sys.stderr)
    sizes = ", ".join(f"{s} {len(ds.split(s))}" for s in ds.splits)
    print(f"{ds.name}: classes {', '.join(ds.class_names)}; {sizes}; {ds.meta['skipped']} unreadable file(s) "
          f"skipped")
    return 0


def _cmd_train(args) -> int:
    from . import config
    from .models.training import train

    def on_epoch(epoch, epochs, logs):
        print(f"epoch {epoch}/{epochs}: " + ", ".join(f"{k} {v:.4f}" for k, v in sorted(logs.items())), flush=True)

    from .models.architectures import ARCHITECTURES

    spec = ARCHITECTURES.get(args.arch)
    if spec.notice and spec.notice():
        print(f"notice: {spec.notice()}", flush=True)
    out = args.out or config.user_models_dir() / f"{args.dataset}-{args.arch}"
    meta = train(args.dataset, args.arch, out, epochs=args.epochs, seed=args.seed, batch_size=args.batch_size,
                 learning_rate=args.learning_rate, on_epoch=on_epoch, limit=args.limit)
    print(f"wrote {out}: test accuracy {meta.test_accuracy:.4f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "explain":
            return _cmd_explain(args)
        if args.command == "train":
            return _cmd_train(args)
        if args.command == "cross-domain":
            return _cmd_cross_domain(args)
        if args.command == "evaluate":
            return _cmd_evaluate(args)
        if args.command == "compare":
            return _cmd_compare(args)
        if args.command == "import-model":
            return _cmd_import_model(args)
        if args.command == "add-dataset":
            return _cmd_add_dataset(args)
        return _cmd_list(args)
    except XAIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line unless asked for the traceback
        if args.debug:
            raise
        print(f"error: internal error ({type(exc).__name__}: {exc}); rerun with --debug for details",
              file=sys.stderr)
        return 1
