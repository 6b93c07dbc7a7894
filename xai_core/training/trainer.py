"""Training a registered architecture on a registered dataset.

The recipe follows the source paper: Adam, early stopping on validation
loss with the best weights kept (restored at the end, however training
stops), and reduce-LR-on-plateau. An architecture's augmentation is applied
to each training batch in the input pipeline. The test split is scored once
at the end and every metric of ``evaluation.classification_report`` is
stored in ``metadata.json`` next to the model.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..data import load_dataset
from ..errors import InputError
from ..models.architectures import ARCHITECTURES, learning_rate as arch_learning_rate
from ..models.metadata import ModelMetadata, apply_scale, scale_range
from ..params import Progress
from .guided import DEFAULT_AREA, DEFAULT_GUIDE_METHOD, Eraser, guide_region, guide_sample, reliance_map

EpochCallback = Callable[[int, int, dict], None]  # (epoch, epochs, logs)
BatchCallback = Callable[[int, int, int], None]  # (epoch, batch, batches per epoch)


def train(dataset: str, arch: str, out: str | Path, epochs: int = 30, seed: int = 0,
          batch_size: int = 32, learning_rate: float | None = None, on_epoch: EpochCallback | None = None,
          limit: int | None = None, on_batch: BatchCallback | None = None, patience: int | None = None,
          guided_augmentation: bool = False, guide_method: str = DEFAULT_GUIDE_METHOD, guide_model=None,
          guide_images: int = 64, random_erasing: bool = False, erase_area: float = DEFAULT_AREA,
          erase_prob: float = 1.0, progress: Progress | None = None) -> ModelMetadata:
    """Train ``arch`` on ``dataset`` and write ``out/model.keras`` and ``out/metadata.json``.

    ``limit`` caps the number of images per split (for quick runs). ``learning_rate`` defaults to the
    architecture's own. Callbacks run in the calling thread, so a UI may update from them.

    ``guided_augmentation``: explain ``guide_images`` training images with ``guide_method`` on
    ``guide_model`` (default: first train a plain model with the same settings), find where it relies on
    evidence outside the lesion, and erase that region from the training images (``training/guided.py``).
    ``random_erasing``: the control, a rectangle of ``erase_area`` erased at random places instead.
    ``progress`` reports the explanation stage of a guided run.
    """
    import keras
    import tensorflow as tf

    from ..evaluation import classification_report

    if epochs < 1:
        raise InputError("epochs must be at least 1.")
    if batch_size < 1:
        raise InputError("batch size must be at least 1.")
    if limit is not None and limit < 1:
        raise InputError("limit must be at least 1 image per split.")
    if guided_augmentation and random_erasing:
        raise InputError("Choose guided augmentation or random erasing, not both: one is the other's control.")
    spec = ARCHITECTURES.get(arch)
    ds = load_dataset(dataset)
    eraser, guide_info = None, None
    if guided_augmentation:
        eraser, guide_info = _guided_eraser(dataset, arch, ds, seed, epochs, batch_size, learning_rate, limit,
                                            patience, guide_method, guide_model, guide_images, erase_area,
                                            erase_prob, progress)
    elif random_erasing:
        eraser = Eraser(None, erase_area, erase_prob)
    notice = spec.notice() if spec.notice else None
    lr = arch_learning_rate(spec) if learning_rate is None else float(learning_rate)
    patience = spec.patience if patience is None else int(patience)
    keras.utils.set_random_seed(seed)
    def xy(split):
        s = ds.split(split)
        n = len(s) if limit is None else min(limit, len(s))
        return apply_scale(s.images[:n].astype("float32"), spec.input_scale), s.labels[:n]

    (xtr, ytr), (xva, yva), (xte, yte) = xy("train"), xy("val"), xy("test")
    model = spec.build(ds.image_shape, len(ds.class_names))
    model.compile(optimizer=keras.optimizers.Adam(lr),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    if eraser is None:
        train_data = tf.data.Dataset.from_tensor_slices((xtr, ytr)).shuffle(len(xtr), seed=seed).batch(batch_size)
    else:  # erasing works on 0..255 pixels, so it runs before the scaling
        raw = ds.split("train").images[:len(ytr)]
        train_data = _erased_batches(raw, ytr, eraser, spec.input_scale, batch_size, seed)
    if spec.augment is not None:
        augment = spec.augment(scale_range(spec.input_scale), seed)
        train_data = train_data.map(lambda x, y: (augment(x), y))  # sequential: same draws for the same seed
    batches = int(np.ceil(len(xtr) / batch_size))

    class _Report(keras.callbacks.Callback):
        epoch = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch + 1

        def on_train_batch_end(self, batch, logs=None):
            if on_batch is not None:
                on_batch(self.epoch, batch + 1, batches)

        def on_epoch_end(self, epoch, logs=None):
            if on_epoch is not None:
                on_epoch(epoch + 1, epochs, {k: float(v) for k, v in (logs or {}).items()})

    t0 = time.perf_counter()
    hist = model.fit(
        train_data.prefetch(2), validation_data=(xva, yva), epochs=epochs, shuffle=False, verbose=0, callbacks=[
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True),
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=max(3, patience // 2),
                                              min_lr=1e-7),
            _Report(),
        ])
    seconds = time.perf_counter() - t0
    probs = np.concatenate([np.asarray(model(xte[i:i + 256], training=False)) for i in range(0, len(xte), 256)])
    report = classification_report(yte, probs, ds.class_names)
    other_splits = {}  # e.g. test-clean: the number that tells a shortcut model from an honest one
    for extra in [k for k in ds.splits if k not in ("train", "val", "test")]:
        xo, yo = xy(extra)
        po = np.concatenate([np.asarray(model(xo[i:i + 256], training=False)) for i in range(0, len(xo), 256)])
        other_splits[extra] = float(np.mean(po.argmax(1) == yo))

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.keras")
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    command = (f"python -m xai_core train --dataset {dataset} --arch {arch} --seed {seed} --epochs {epochs}"
               + (f" --limit {limit}" if limit else "") + _erasing_flags(guided_augmentation, random_erasing,
                                                                     guide_method, guide_model, guide_images,
                                                                     erase_area, erase_prob)
               + f" --out {out.as_posix()}")
    meta = ModelMetadata(
        class_names=list(ds.class_names), input_size=ds.image_shape[:2], input_channels=ds.image_shape[2],
        input_scale=spec.input_scale, dataset=dataset, arch=arch, seed=seed, test_accuracy=report["accuracy"],
        history=history, description=spec.description,
        test_metrics={k: v for k, v in report.items() if k not in ("class_names",)},
        trained_with={"epochs_max": epochs, "epochs_run": len(history.get("loss", [])),
                      "batch_size": batch_size, "learning_rate": lr, "patience": patience,
                      "seconds": round(seconds, 1),
                      "augmented": spec.augment is not None, "notice": notice,
                      "limit": limit, "train_size": len(ytr), "test_size": len(yte), "command": command,
                      **({"accuracy_on_other_splits": other_splits} if other_splits else {}),
                      **({"erasing": eraser.describe()} if eraser is not None else {}),
                      **({"guided": guide_info} if guide_info else {})})
    meta.write(out / "metadata.json")
    return meta


def _erasing_flags(guided, random_erasing, method, guide_model, guide_images, area, prob) -> str:
    if not (guided or random_erasing):
        return ""
    flags = " --guided-augmentation" if guided else " --random-erasing"
    if guided:
        flags += f" --guide-method {method} --guide-images {guide_images}"
        if guide_model is not None and not hasattr(guide_model, "forward"):
            flags += f" --guide-model {Path(str(guide_model)).as_posix()}"
    if prob != 1.0:
        flags += f" --erase-prob {prob}"
    if area != DEFAULT_AREA:
        flags += f" --erase-area {area}"
    return flags


def _erased_batches(raw: np.ndarray, labels: np.ndarray, eraser: Eraser, scale: str, batch_size: int, seed: int):
    """A tf.data pipeline of shuffled, erased, scaled batches; epoch ``e`` draws from ``rng([seed, e])``."""
    import tensorflow as tf

    epoch = {"n": 0}

    def batches():
        rng = np.random.default_rng([seed, 16, epoch["n"]])
        epoch["n"] += 1
        order = rng.permutation(len(labels))
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            x = eraser(raw[idx].astype(np.float32), rng)
            yield apply_scale(x, scale).astype(np.float32), labels[idx]

    sig = (tf.TensorSpec((None, *raw.shape[1:]), tf.float32), tf.TensorSpec((None,), labels.dtype))
    n_batches = int(np.ceil(len(labels) / batch_size))  # a known length, so Keras sees where an epoch ends
    return tf.data.Dataset.from_generator(batches, output_signature=sig).apply(
        tf.data.experimental.assert_cardinality(n_batches))


def _guided_eraser(dataset, arch, ds, seed, epochs, batch_size, learning_rate, limit, patience, method,
                   guide_model, guide_images, area, prob, progress):
    """Stage one of a guided run: the model to explain (given, or trained plainly here), then its region."""
    import tempfile

    from ..explainers import EXPLAINERS
    from ..models import as_model

    EXPLAINERS.get(method)  # fail on a typo before any training
    if guide_model is None:
        with tempfile.TemporaryDirectory() as tmp:
            train(dataset, arch, tmp, epochs=epochs, seed=seed, batch_size=batch_size, learning_rate=learning_rate,
                  limit=limit, patience=patience)
            return _guided_eraser(dataset, arch, ds, seed, epochs, batch_size, learning_rate, limit, patience,
                                  method, as_model(str(Path(tmp) / "model.keras")), guide_images, area, prob,
                                  progress)
    lm = as_model(guide_model)
    s = ds.split("train")
    n = len(s) if limit is None else min(limit, len(s))
    idx = guide_sample(s.labels[:n], guide_images, seed, None if s.masks is None else s.masks[:n])
    reliance = reliance_map(lm, s.images[idx], None if s.masks is None else s.masks[idx], method, None, progress)
    region = guide_region(reliance, area)
    info = {"method": method, "model": lm.name, "images": int(len(idx)), "area": float(region.mean()),
            "region_box": _box(region)}
    return Eraser(region, prob=prob), info


def _box(region: np.ndarray) -> list[int]:
    """[top, left, bottom, right] of the region, for metadata a person can read."""
    rows, cols = np.flatnonzero(region.any(1)), np.flatnonzero(region.any(0))
    return [int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1] if len(rows) else []
