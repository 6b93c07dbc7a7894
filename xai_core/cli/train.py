"""``train``: train a registered architecture on a dataset with the paper's recipe."""

from __future__ import annotations

from . import command


def _arguments(t) -> None:
    t.add_argument("--dataset", required=True)
    t.add_argument("--arch", required=True, help="a registered architecture (see `architectures`)")
    t.add_argument("--epochs", type=int, default=30, help="most epochs; early stopping usually ends sooner")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--limit", type=int, default=None, help="use at most N images per split (quick runs)")
    t.add_argument("--learning-rate", type=float, default=None, help="default: the architecture's own")
    t.add_argument("--guided-augmentation", action="store_true",
                   help="explain training images with the model's own explainer, find the region it relies on "
                        "outside the lesion, and erase it from every training image (explanation-guided retraining)")
    t.add_argument("--guide-method", default="shap-partition", help="explainer for --guided-augmentation")
    t.add_argument("--guide-model", default=None,
                   help="model whose explanations guide the erasing (default: first train a plain model here)")
    t.add_argument("--guide-images", type=int, default=64, help="training images explained to find the region")
    t.add_argument("--random-erasing", action="store_true",
                   help="erase a rectangle at a random place instead: the control for --guided-augmentation")
    t.add_argument("--erase-area", type=float, default=0.03, help="erased share of the image (random erasing, "
                                                                  "and the guided region's size)")
    t.add_argument("--erase-prob", type=float, default=1.0, help="chance that a training image is erased")
    t.add_argument("--out", default=None,
                   help="output folder for model.keras and metadata.json (default: the user models folder, "
                        "named DATASET-ARCH)")


@command("train", "train an architecture on a dataset", _arguments)
def run(args) -> int:
    from .. import config
    from ..models.architectures import ARCHITECTURES
    from ..training import train

    def on_epoch(epoch, epochs, logs):
        print(f"epoch {epoch}/{epochs}: " + ", ".join(f"{k} {v:.4f}" for k, v in sorted(logs.items())), flush=True)

    spec = ARCHITECTURES.get(args.arch)
    if spec.notice and spec.notice():
        print(f"notice: {spec.notice()}", flush=True)
    out = args.out or config.user_models_dir() / f"{args.dataset}-{args.arch}"
    meta = train(args.dataset, args.arch, out, epochs=args.epochs, seed=args.seed, batch_size=args.batch_size,
                 learning_rate=args.learning_rate, on_epoch=on_epoch, limit=args.limit,
                 guided_augmentation=args.guided_augmentation, guide_method=args.guide_method,
                 guide_model=args.guide_model, guide_images=args.guide_images, random_erasing=args.random_erasing,
                 erase_area=args.erase_area, erase_prob=args.erase_prob, progress=_guide_progress())
    print(f"wrote {out}: test accuracy {meta.test_accuracy:.4f}")
    return 0


def _guide_progress():
    """Print the explanation stage of a guided run about ten times, not once per image."""
    last = {"tenth": -1}

    def progress(fraction, message):
        if int(fraction * 10) > last["tenth"]:
            last["tenth"] = int(fraction * 10)
            print(f"guide: {message}", flush=True)
    return progress
