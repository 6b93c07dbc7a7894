"""Audits keep their maps: every explained map, reduced to ``MAP_SIZE`` x ``MAP_SIZE``, beside its row.

A map is stored as the row's ``map`` cell (float32 bytes, row-major), so it travels with the row through
every engine (process pool, Ray actors) and is appended, resumed and de-duplicated exactly as the rows are:
the same bits whichever engine computed it. At the end of an audit the maps go to ``maps.npz`` (no pickles),
and ``rows.parquet``/``rows.csv`` stay the readable table they were. ``xai_core.strategies`` clusters them.

The reduction is an area mean (``skimage.transform.resize_local_mean``) of the channel sum: a 128x128 map
becomes 4x4 blocks, so a block's value is the mean attribution of its pixels, the sign kept.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

MAP_COLUMN = "map"
MAP_SIZE = 32
MAPS_FILE = "maps.npz"


def reduce_map(values: np.ndarray, size: int = MAP_SIZE) -> np.ndarray:
    """(H, W) or (H, W, C) attribution -> (size, size) float32: channel sum, then area mean."""
    from skimage.transform import resize_local_mean

    v = np.asarray(values, np.float64)
    if v.ndim == 3:
        v = v.sum(-1)
    if v.shape != (size, size):
        v = resize_local_mean(v, (size, size), grid_mode=True, preserve_range=True)
    return np.ascontiguousarray(v, np.float32)


def to_cell(m: np.ndarray) -> bytes:
    return np.ascontiguousarray(m, np.float32).tobytes()


def from_cell(cell, size: int = MAP_SIZE) -> np.ndarray | None:
    """A stored cell back to a (size, size) map; None for rows without one (errors, audits made before maps)."""
    if not isinstance(cell, (bytes, bytearray)) or len(cell) != size * size * 4:
        return None
    return np.frombuffer(cell, np.float32).reshape(size, size).copy()


def write_maps(df, out: Path) -> int:
    """Write the ``map`` column of an audit's rows to ``out/maps.npz`` (atomically); returns how many maps."""
    keep = [i for i, c in enumerate(df[MAP_COLUMN]) if from_cell(c) is not None] if MAP_COLUMN in df else []
    sub = df.iloc[keep]
    maps = np.stack([from_cell(c) for c in sub[MAP_COLUMN]]) if keep else np.zeros((0, MAP_SIZE, MAP_SIZE), np.float32)
    tmp = Path(out) / f".{MAPS_FILE}.tmp.npz"
    np.savez_compressed(tmp, maps=maps, image_id=np.asarray(sub["image_id"].astype(str), dtype=str),
                        method=np.asarray(sub["method"].astype(str), dtype=str),
                        class_index=np.asarray(sub["class_index"], np.int64))
    os.replace(tmp, Path(out) / MAPS_FILE)
    return len(keep)


def read_maps(folder: Path) -> dict[str, np.ndarray] | None:
    """``maps.npz`` of a finished audit as plain arrays, or None when the audit kept no maps; a link out of
    the audit folder is refused."""
    from ..paths import within

    if not (Path(folder) / MAPS_FILE).is_file():
        return None
    path = within(Path(folder) / MAPS_FILE, Path(folder), own=Path(folder), what="the audit folder")
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}
