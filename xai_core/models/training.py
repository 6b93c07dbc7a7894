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
from .architectures import ARCHITECTURES, learning_rate as arch_learning_rate
from .metadata import ModelMetadata, apply_scale, scale_range

EpochCallback = Callable[[int, int, dict], None]  # (epoch, epochs, logs)
BatchCallback = Callable[[int, int, int], None]  # (epoch, batch, batches per epoch)


def train(dataset: str, arch: str, out: str | Path, epochs: int = 30, seed: int = 0,
          batch_size: int = 32, learning_rate: float | None = None, on_epoch: EpochCallback | None = None,
          limit: int | None = None, on_batch: BatchCallback | None = None, patience: int | None = None) -> ModelMetadata:
    """Train ``arch`` on ``dataset`` and write ``out/model.keras`` and ``out/metadata.json``.

    ``limit`` caps the number of images per split (for quick runs). ``learning_rate`` defaults to the
    architecture's own. Callbacks run in the calling thread, so a UI may update from them.
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
    spec = ARCHITECTURES.get(arch)
    ds = load_dataset(dataset)
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
    train_data = tf.data.Dataset.from_tensor_slices((xtr, ytr)).shuffle(len(xtr), seed=seed).batch(batch_size)
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

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.keras")
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    command = (f"python -m xai_core train --dataset {dataset} --arch {arch} --seed {seed} --epochs {epochs}"
               + (f" --limit {limit}" if limit else "") + f" --out {out.as_posix()}")
    meta = ModelMetadata(
        class_names=list(ds.class_names), input_size=ds.image_shape[:2], input_channels=ds.image_shape[2],
        input_scale=spec.input_scale, dataset=dataset, arch=arch, seed=seed, test_accuracy=report["accuracy"],
        history=history, description=spec.description,
        test_metrics={k: v for k, v in report.items() if k not in ("class_names",)},
        trained_with={"epochs_max": epochs, "epochs_run": len(history.get("loss", [])),
                      "batch_size": batch_size, "learning_rate": lr, "patience": patience,
                      "seconds": round(seconds, 1),
                      "augmented": spec.augment is not None, "notice": notice,
                      "limit": limit, "train_size": len(ytr), "test_size": len(yte), "command": command})
    meta.write(out / "metadata.json")
    return meta
