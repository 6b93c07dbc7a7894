"""``amortise``: train a model's fast (amortised Shapley) explainer, FastSHAP, with a progress bar."""

from __future__ import annotations

import sys
import time

from . import command


def _arguments(a) -> None:
    from ..explainers._amortised import GRIDS

    a.add_argument("--model", required=True, help="the model to explain (name, folder or .keras file)")
    a.add_argument("--dataset", required=True, help="scans to train on (its train split; val is held out)")
    a.add_argument("--epochs", type=int, default=8, help="epochs; each draws fresh coalitions for every scan")
    a.add_argument("--players", default="8x8", choices=GRIDS, help="the grid of patches that share the credit")
    a.add_argument("--output", default="margin", choices=("margin", "probability"), help="output space explained")
    a.add_argument("--samples", type=int, default=16, help="coalitions per scan per epoch (in complementary pairs)")
    a.add_argument("--fit-passes", type=int, default=3, help="passes of the explainer over the scans per epoch")
    a.add_argument("--batch-size", type=int, default=32, help="scans per explainer step")
    a.add_argument("--learning-rate", type=float, default=1e-3)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--limit", type=int, default=None, help="train on at most N scans (quick runs)")
    a.add_argument("--val-images", type=int, default=64, help="held-out scans for the validation curve")
    a.add_argument("--exact-images", type=int, default=0,
                   help="held-out scans also scored against exact Shapley values (16 players at most; 2^16 passes each)")
    a.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                   help="end after the epoch that crosses SECONDS (saved; rerun to resume)")
    a.add_argument("--fresh", action="store_true", help="ignore a checkpoint of an earlier run instead of resuming")
    a.add_argument("--out", default=None, help="folder for explainer.keras and explainer.json (default: beside the "
                                               "model, in the user-model area, keyed by the model file's hash)")


def _bar(fraction: float, message: str, started=[None]) -> None:  # noqa: B006 (one clock per process)
    started[0] = started[0] or time.perf_counter()
    width = 30
    done = int(round(max(0.0, min(1.0, fraction)) * width))
    elapsed = time.perf_counter() - started[0]
    sys.stdout.write(f"\r[{'#' * done}{'.' * (width - done)}] {fraction:4.0%} {elapsed:6.0f} s  {message[:70]:<70}")
    sys.stdout.flush()


@command("amortise", "train a model's fast explainer (FastSHAP): Shapley maps in one pass", _arguments)
def run(args) -> int:
    from ..training.amortise import amortise

    def on_epoch(epoch, epochs, row):
        print("\n" + f"epoch {epoch}/{epochs}: " + ", ".join(f"{k} {v:.4g}" for k, v in row.items() if k != "epoch"),
              flush=True)

    info = amortise(args.model, args.dataset, args.out, players=args.players, output=args.output,
                    epochs=args.epochs, samples=args.samples, fit_passes=args.fit_passes, batch_size=args.batch_size,
                    learning_rate=args.learning_rate, seed=args.seed, time_limit=args.time_limit, limit=args.limit,
                    val_images=args.val_images, exact_images=args.exact_images, resume=not args.fresh,
                    progress=_bar, on_epoch=on_epoch)
    print(f"\nwrote the fast explainer of {info['model_name']} ({info['players']} players, {info['output']}): "
          f"{info['epochs']} epochs, {info['train_seconds']:.0f} s of training, {info['stopped']}")
    return 0
