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
    t.add_argument("--out", default=None,
                   help="output folder for model.keras and metadata.json (default: the user models folder, "
                        "named DATASET-ARCH)")


@command("train", "train an architecture on a dataset", _arguments)
def run(args) -> int:
    from .. import config
    from ..models.architectures import ARCHITECTURES
    from ..models.training import train

    def on_epoch(epoch, epochs, logs):
        print(f"epoch {epoch}/{epochs}: " + ", ".join(f"{k} {v:.4f}" for k, v in sorted(logs.items())), flush=True)

    spec = ARCHITECTURES.get(args.arch)
    if spec.notice and spec.notice():
        print(f"notice: {spec.notice()}", flush=True)
    out = args.out or config.user_models_dir() / f"{args.dataset}-{args.arch}"
    meta = train(args.dataset, args.arch, out, epochs=args.epochs, seed=args.seed, batch_size=args.batch_size,
                 learning_rate=args.learning_rate, on_epoch=on_epoch, limit=args.limit)
    print(f"wrote {out}: test accuracy {meta.test_accuracy:.4f}")
    return 0
