"""Training a registered architecture on a registered dataset.

The recipe follows the source paper: Adam, early stopping on validation
loss with the best weights kept, and reduce-LR-on-plateau.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..data import load_dataset
from ..errors import InputError
from .architectures import ARCHITECTURES
from .metadata import SCALES, ModelMetadata

EpochCallback = Callable[[int, int, dict], None]  # (epoch, epochs, logs)


def train(dataset: str, arch: str, out: str | Path, epochs: int = 30, seed: int = 0,
          batch_size: int = 32, learning_rate: float = 1e-3, on_epoch: EpochCallback | None = None,
          limit: int | None = None) -> ModelMetadata:
    """Train ``arch`` on ``dataset`` and write ``out/model.keras`` and ``out/metadata.json``.

    ``limit`` caps the number of images per split (for quick tests).
    """
    import keras

    if epochs < 1:
        raise InputError("epochs must be at least 1.")
    spec = ARCHITECTURES.get(arch)
    ds = load_dataset(dataset)
    keras.utils.set_random_seed(seed)
    mult, add = SCALES[spec.input_scale]

    def xy(split):
        s = ds.split(split)
        n = len(s) if limit is None else min(limit, len(s))
        return s.images[:n].astype("float32") * mult + add, s.labels[:n]

    (xtr, ytr), (xva, yva), (xte, yte) = xy("train"), xy("val"), xy("test")
    model = spec.build(ds.image_shape, len(ds.class_names))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    class _Report(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if on_epoch is not None:
                on_epoch(epoch + 1, epochs, {k: float(v) for k, v in (logs or {}).items()})

    t0 = time.perf_counter()
    hist = model.fit(
        xtr, ytr, validation_data=(xva, yva), epochs=epochs, batch_size=batch_size, shuffle=True,
        verbose=0, callbacks=[
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=6, restore_best_weights=True),
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=3, min_lr=1e-5),
            _Report(),
        ])
    seconds = time.perf_counter() - t0
    probs = np.concatenate([np.asarray(model(xte[i:i + 256], training=False)) for i in range(0, len(xte), 256)])
    acc = float((probs.argmax(1) == yte).mean())

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.keras")
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    meta = ModelMetadata(
        class_names=list(ds.class_names), input_size=ds.image_shape[:2], input_channels=ds.image_shape[2],
        input_scale=spec.input_scale, dataset=dataset, arch=arch, seed=seed, test_accuracy=acc,
        history=history, description=spec.description,
        trained_with={"epochs_max": epochs, "epochs_run": len(history.get("loss", [])),
                      "batch_size": batch_size, "learning_rate": learning_rate, "seconds": round(seconds, 1),
                      "limit": limit, "train_size": len(ytr), "test_size": len(yte),
                      "command": f"python -m xai_core train --dataset {dataset} --arch {arch} --seed {seed} "
                                 f"--epochs {epochs} --out {out.as_posix()}"})
    meta.write(out / "metadata.json")
    return meta
