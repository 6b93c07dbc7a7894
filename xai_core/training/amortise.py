"""Training an amortised Shapley explainer (FastSHAP; Jethani et al., ICLR 2022) for one model.

Each epoch draws ``samples`` coalitions per training scan from the Shapley kernel distribution
p(S) ~ (d - 1) / (C(d, |S|) |S| (d - |S|)), paired with their complements (the paper's variance
reduction), and scores the masked scans with the model's compiled forward pass in large batches (never
``predict`` in a loop). The coalitions and the model's answers are kept (a replay bank: the model's
passes are the expensive part, ~1.6 ms a 128x128 scan on 2 cores, the explainer's steps are cheap), and
``fit_passes`` passes over the training scans fit the explainer network to the FastSHAP objective on a
random subset of each scan's bank. Every draw is from p(S), so the objective is the paper's; the bank only
reuses the model's answers across epochs.

Validation, each epoch: the same objective on held-out scans (the validation split) with fixed coalitions,
and, where cheap (``exact_images`` > 0 and at most 16 players), the relative error and rank correlation
against exact Shapley values from all 2^d coalitions.

A checkpoint (network weights, optimiser state, the bank, the random state and the curves) is written
after every epoch; a run that finds one for the same model, grid, output space and seed resumes from it.
``time_limit`` ends training after the epoch that crosses it, with everything saved.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Callable

import numpy as np

from .. import cancel
from ..errors import InputError
from ..explainers import EXPLAINERS
from ..explainers._amortised import (INFO_FILE, MASKER, NETWORK_FILE, build_network, efficient, grid_shape, hidden,
                                     masked, model_key, patch_segments, user_dir)
from ..explainers.shap_superpixel import all_coalitions, coalition_values, exact_shapley
from ..models import OUTPUT_SPACES, as_model
from ..params import Progress

EpochCallback = Callable[[int, int, dict], None]  # (epoch, epochs, row of the curves)
CHECKPOINT = "checkpoint"


def kernel_coalitions(rng: np.random.Generator, n_images: int, samples: int, d: int) -> np.ndarray:
    """(n_images, samples, d) booleans: sizes from the Shapley kernel distribution, players uniform given
    the size, every second coalition the complement of the one before (paired sampling)."""
    sizes = np.arange(1, d)
    p = (d - 1) / (sizes * (d - sizes))  # C(d, s) coalitions of size s, each with weight (d-1)/(C(d,s) s (d-s))
    p = p / p.sum()
    half = (samples + 1) // 2
    s = rng.choice(sizes, size=(n_images, half), p=p)
    order = np.argsort(rng.random((n_images, half, d)), axis=-1)
    first = order < s[..., None]
    both = np.stack([first, ~first], axis=2).reshape(n_images, 2 * half, d)
    return both[:, :samples]


def train_for(method: str, model, dataset, **kwargs) -> dict:
    """Train the per-model state of a registered ``method`` that needs one (``Explainer.trained_per_model``):
    the pages and the CLI reach the trainer through the registry, without naming the method."""
    cls = EXPLAINERS.get(method)
    if not cls.trained_per_model:
        raise InputError(f"{cls.display_name} needs no training.")
    return amortise(model, dataset, **kwargs)


def _images(lm, dataset, split: str, limit: int | None) -> np.ndarray:
    """Scans of ``split`` fitted to the model: a dataset name, or an array (tests) used as it is."""
    if isinstance(dataset, np.ndarray):
        x = dataset
    else:
        from ..data import load_dataset

        x = load_dataset(dataset).split(split).images
    x = x[:limit] if limit else x
    if x.shape[1:] != lm.input_shape:
        x = np.stack([lm.prepare(i) for i in x])
    return np.asarray(x, np.float32)


class _Game:
    """The scans, their fills and v(all), v(none) in one output space; ``values`` scores coalitions."""

    def __init__(self, lm, images, segments, space, batch_size):
        self.lm, self.x, self.segments, self.space, self.batch = lm, images, segments, space, batch_size
        self.fills = np.stack([hidden(i) for i in images]) if len(images) else images
        self.v_all = self._score(images)
        self.v_none = self._score(self.fills)

    def _score(self, x):
        return self.lm.forward(x, self.batch)[self.space].astype(np.float32)

    def values(self, idx, coalitions, progress=None) -> np.ndarray:
        """v(S) - v(none) (len(idx), n, K) for coalitions (len(idx), n, d) of scans ``idx``."""
        n = coalitions.shape[1]
        per = max(1, self.batch // n)
        out = []
        for i in range(0, len(idx), per):
            j = idx[i:i + per]
            imgs = masked(self.x[j], self.fills[j], self.segments, coalitions[i:i + per])
            v = self._score(imgs.reshape(-1, *self.x.shape[1:])).reshape(len(j), n, -1)
            out.append(v - self.v_none[j][:, None])
            if progress is not None:
                progress(min(1.0, (i + len(j)) / len(idx)), f"{i + len(j):,} / {len(idx):,} scans")
        return np.concatenate(out)


def amortise(model, dataset, out: str | Path | None = None, *, players: str = "8x8", output: str = "margin",
             epochs: int = 8, samples: int = 16, fit_passes: int = 3, batch_size: int = 32,
             learning_rate: float = 1e-3, seed: int = 0, time_limit: float | None = None, limit: int | None = None,
             val_images: int = 64, exact_images: int = 0, model_batch: int = 256, resume: bool = True,
             progress: Progress | None = None, on_epoch: EpochCallback | None = None) -> dict:
    """Train a FastSHAP explainer of ``model`` on ``dataset`` (a name, or an (N, H, W, C) array whose last
    fifth is held out) and write ``explainer.keras`` and ``explainer.json`` to ``out`` (default: beside the
    model, in the user-model area keyed by the model file's hash). Returns the info written."""
    import keras
    import tensorflow as tf

    lm = as_model(model)
    if output not in OUTPUT_SPACES:
        raise InputError(f"output must be 'margin' or 'probability'; got {output!r}.")
    grid_shape(players)
    for name, v, lo in (("epochs", epochs, 1), ("samples", samples, 2), ("fit_passes", fit_passes, 1),
                        ("batch_size", batch_size, 1), ("val_images", val_images, 0), ("exact_images", exact_images, 0)):
        if int(v) < lo:
            raise InputError(f"{name} must be at least {lo}; got {v}.")
    if time_limit is not None and time_limit <= 0:
        raise InputError("the time limit must be a positive number of seconds.")
    out = Path(out) if out is not None else user_dir(lm, players, output)
    ckpt = out / CHECKPOINT
    space = OUTPUT_SPACES.index(output)
    segments = patch_segments(lm.input_shape, players)
    d = int(segments.max()) + 1
    if isinstance(dataset, np.ndarray):
        cut = max(1, len(dataset) * 4 // 5)
        xtr, xva = _images(lm, dataset[:cut], "", limit), _images(lm, dataset[cut:], "", val_images)
        dataset_name = "array"
    else:
        xtr, xva = _images(lm, dataset, "train", limit), _images(lm, dataset, "val", val_images)
        dataset_name = str(dataset)
    if len(xtr) < 1:
        raise InputError("There are no training scans to train the explainer on.")
    t_start = time.perf_counter()
    report = cancel.guard(progress)
    report(0.0, "scoring the scans and their masked versions")
    train, val = _Game(lm, xtr, segments, space, model_batch), _Game(lm, xva, segments, space, model_batch)
    rng = np.random.default_rng(seed)
    val_coal = kernel_coalitions(np.random.default_rng(seed + 1), len(xva), 32, d)
    val_target = val.values(np.arange(len(xva)), val_coal) if len(xva) else None
    exact = _exact(val, min(exact_images, len(xva)), d) if d <= 16 and exact_images else None

    keras.utils.set_random_seed(seed)
    net = build_network(lm.input_shape, players, lm.num_classes, seed)
    opt = keras.optimizers.Adam(learning_rate)
    opt.build(net.trainable_variables)
    n, cap = len(xtr), samples * epochs
    bank_s, bank_v = np.zeros((n, cap, d), bool), np.zeros((n, cap, lm.num_classes), np.float32)
    filled, start, history, spent, prior_wall = 0, 0, [], 0.0, 0.0
    meta = {"model_hash": model_key(lm), "players": players, "output": output, "seed": int(seed), "images": n,
            "samples": int(samples), "dataset": dataset_name, "network": [list(w.shape) for w in net.weights]}
    if resume and (ckpt / "state.json").is_file():
        state = json.loads((ckpt / "state.json").read_text())
        if state.get("meta") == meta and state["filled"] <= cap:
            z = np.load(ckpt / "bank.npz")
            filled, start, history, spent = state["filled"], state["epoch"], state["history"], state["seconds"]
            prior_wall = float(state.get("wall", spent))
            bank_s[:, :filled] = np.unpackbits(z["s"], axis=-1, count=d).astype(bool)
            bank_v[:, :filled] = z["v"]
            net.set_weights([z[f"w{i}"] for i in range(len(net.weights))])
            for i, var in enumerate(opt.variables):
                var.assign(z[f"o{i}"])
            rng.bit_generator.state = state["rng"]
            report(0.0, f"resuming after epoch {start} of {epochs}")

    def step(x, fill, s, target, total):
        with tf.GradientTape() as tape:
            phi = efficient(net([x, fill], training=True), total)
            loss = tf.reduce_mean(tf.square(tf.einsum("bnd,bdk->bnk", s, phi) - target))
        opt.apply_gradients(zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables))
        return loss

    if fit_passes * epochs * -(-n // batch_size) > 64:  # tracing costs seconds: worth it over many steps only
        step = tf.function(step, reduce_retracing=True)

    run_start = time.perf_counter()
    stopped = "finished"
    for epoch in range(start, epochs):
        epoch_start = time.perf_counter()
        coal = kernel_coalitions(rng, n, samples, d)

        def sampling(f, msg, epoch=epoch):
            report((epoch + 0.8 * f) / epochs, f"epoch {epoch + 1}/{epochs}: scoring masked scans, {msg}")

        bank_v[:, filled:filled + samples] = train.values(np.arange(n), coal, sampling)
        bank_s[:, filled:filled + samples] = coal
        filled += samples
        losses = []
        for _ in range(fit_passes):
            order = rng.permutation(n)
            for i in range(0, n, batch_size):
                b = order[i:i + batch_size]
                cols = rng.choice(filled, size=min(filled, 4 * samples), replace=False)
                losses.append(float(step(tf.constant(xtr[b]), tf.constant(train.fills[b]), tf.constant(bank_s[b][:, cols].astype(np.float32)),
                                         tf.constant(bank_v[b][:, cols]),
                                         tf.constant(train.v_all[b] - train.v_none[b]))))
            cancel.check()
        row = {"epoch": epoch + 1, "train_loss": float(np.mean(losses)),
               **_validate(net, val, val_coal, val_target), **(_exact_scores(net, val, exact) if exact is not None else {})}
        history.append(row)
        spent_now = spent + time.perf_counter() - run_start
        _checkpoint(ckpt, net, opt, bank_s, bank_v, filled, epoch + 1, history, spent_now, rng, meta,
                    prior_wall + time.perf_counter() - t_start)
        report((epoch + 1) / epochs, f"epoch {epoch + 1}/{epochs}: validation loss {row.get('val_loss', float('nan')):.4g}")
        if on_epoch is not None:
            on_epoch(epoch + 1, epochs, row)
        # stop when another epoch like the last would cross the limit (this run's wall time)
        now = time.perf_counter()
        if time_limit is not None and epoch + 1 < epochs and now - t_start + (now - epoch_start) > time_limit:
            stopped = f"stopped by the time limit after epoch {epoch + 1}"
            break
    seconds = spent + time.perf_counter() - run_start
    return _save(out, net, lm, meta, history, seconds, prior_wall + time.perf_counter() - t_start, stopped, epochs,
                 dict(samples=samples, fit_passes=fit_passes, batch_size=batch_size, learning_rate=learning_rate))


def _validate(net, val, coal, target) -> dict:
    """The FastSHAP objective on the held-out scans' fixed coalitions."""
    if target is None:
        return {}
    phi = efficient(_raw(net, val.x, val.fills), (val.v_all - val.v_none).astype(np.float64))
    pred = np.einsum("bnd,bdk->bnk", coal.astype(np.float64), phi)
    return {"val_loss": float(np.mean((pred - target) ** 2))}


def _raw(net, x, fills) -> np.ndarray:
    """The network's raw estimates (N, d, K), float64, in batches."""
    return np.concatenate([np.asarray(net([x[i:i + 128], fills[i:i + 128]], training=False), np.float64)
                           for i in range(0, len(x), 128)])


def _exact(val, k: int, d: int) -> np.ndarray | None:
    """Exact Shapley values (k, K, d) of the first ``k`` held-out scans from all 2^d coalitions."""
    if k < 1:
        return None
    f = val.lm.output_fn(OUTPUT_SPACES[val.space], val.batch)
    return np.stack([exact_shapley(coalition_values(f, val.x[i], val.fills[i], val.segments, all_coalitions(d),
                                                    val.batch), d) for i in range(k)])


def _exact_scores(net, val, exact) -> dict:
    """Relative error and mean Spearman correlation of the explainer against exact values."""
    from scipy.stats import spearmanr

    k = len(exact)
    phi = efficient(_raw(net, val.x[:k], val.fills[:k]),
                    (val.v_all[:k] - val.v_none[:k]).astype(np.float64))
    est = np.moveaxis(phi, -1, 1)  # (k, K, d)
    rel = float(np.linalg.norm(est - exact) / max(np.linalg.norm(exact), 1e-12))
    rho = [spearmanr(e, t).statistic for e, t in zip(est.reshape(-1, est.shape[-1]), exact.reshape(-1, est.shape[-1]))]
    return {"exact_rel_error": rel, "exact_spearman": float(np.nanmean(rho))}


def _checkpoint(ckpt: Path, net, opt, bank_s, bank_v, filled, epoch, history, seconds, rng, meta, wall) -> None:
    ckpt.mkdir(parents=True, exist_ok=True)
    arrays = {"s": np.packbits(bank_s[:, :filled], axis=-1), "v": bank_v[:, :filled]}
    arrays.update({f"w{i}": w for i, w in enumerate(net.get_weights())})
    arrays.update({f"o{i}": np.asarray(v) for i, v in enumerate(opt.variables)})
    tmp = ckpt / "bank.tmp.npz"
    np.savez(tmp, **arrays)
    tmp.replace(ckpt / "bank.npz")
    state = {"meta": meta, "filled": int(filled), "epoch": int(epoch), "history": history, "seconds": seconds,
             "wall": wall, "rng": rng.bit_generator.state}
    (ckpt / "state.tmp.json").write_text(json.dumps(state))
    (ckpt / "state.tmp.json").replace(ckpt / "state.json")


def _save(out: Path, net, lm, meta, history, seconds, wall, stopped, epochs, settings) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{NETWORK_FILE}"
    net.save(tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    info = {**meta, "model_name": lm.name, "class_names": list(lm.class_names), "input_shape": list(lm.input_shape),
            "masker": MASKER, "epochs": len(history), "epochs_planned": int(epochs), "train_seconds": round(seconds, 1),
            "wall_seconds": round(wall, 1), "stopped": stopped, "history": history, "network_sha256": digest,
            "parameters": int(net.count_params()), "settings": settings,
            "method": "FastSHAP (Jethani et al., ICLR 2022), direct masking, additive efficiency normalisation"}
    tmp.replace(out / NETWORK_FILE)
    (out / f".{INFO_FILE}").write_text(json.dumps(info, indent=1))
    (out / f".{INFO_FILE}").replace(out / INFO_FILE)
    return info


def estimate_seconds(lm, images: int, samples: int, epochs: int) -> float:
    """The model passes a training run needs, in seconds on this machine (the explainer's steps are extra)."""
    from ..models.timing import forward_seconds

    return images * (samples * epochs + 2) * forward_seconds(lm)
