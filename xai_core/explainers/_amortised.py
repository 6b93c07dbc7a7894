"""What an amortised Shapley explainer (``fastshap``) and its trainer share: the players, the masker, the
explainer network, and where a trained network is stored and how a missing or stale one is refused.

Players are a fixed grid of patches (``4x4``, ``8x8``, ``16x16``): patch ``r * cols + c`` covers rows
``edges_r[r]:edges_r[r+1]`` and columns ``edges_c[c]:edges_c[c+1]``, so exact values of a 4x4 grid can be
checked by enumerating all 2^16 coalitions (``shap_superpixel.all_coalitions`` / ``exact_shapley``).

A hidden patch shows the SHAP page's masker, shap's ``blur(20,20)`` image masker: the patch of OpenCV's box
blur of the whole image (``shap_partition.box_blur``), the same fill ``shap-partition``'s reference image
and the trust card's deletion metrics use.

Storage, beside the model explained: a shipped model's explainer ships under
``assets/fastshap/<model>/<players>-<output>/``; a user model's goes into its own folder,
``<model folder>/.fastshap/<sha256 of the model file, 16 hex>/<players>-<output>/`` (private with it, deleted
with it); any other model's into the user-model area, ``<user models>/.fastshap/<model>/<hash>/...`` (a dot
folder: never listed as a model). Each holds ``explainer.keras`` (the network, loaded with Keras ``safe_mode``)
and ``explainer.json`` (what it explains and how it was trained).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from pathlib import Path

import numpy as np

from .. import config
from ..errors import InputError
from .shap_partition import box_blur

GRIDS = ("4x4", "8x8", "16x16")
MASKER = "blur(20,20)"  # shap's Image masker on the SHAP page (shap-partition's default)
STORE = ".fastshap"
NETWORK_FILE, INFO_FILE = "explainer.keras", "explainer.json"
ACTION = "Train the fast explainer"  # the model-page button, named in every refusal
PAGE = "Model report"


def grid_shape(players: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{1,2})x(\d{1,2})", str(players))
    if not m or str(players) not in GRIDS:
        raise InputError(f"players must be one of {', '.join(GRIDS)}; got {players!r}.")
    return int(m[1]), int(m[2])


def patch_segments(shape: tuple, players: str) -> np.ndarray:
    """(H, W) int array: the player (patch index, row-major) each pixel belongs to."""
    gh, gw = grid_shape(players)
    h, w = int(shape[0]), int(shape[1])
    if h < gh or w < gw:
        raise InputError(f"A {h}x{w} image cannot be split into {players} patches.")
    rows = np.minimum(np.arange(h) * gh // h, gh - 1)
    cols = np.minimum(np.arange(w) * gw // w, gw - 1)
    return (rows[:, None] * gw + cols[None, :]).astype(np.int64)


def hidden(image: np.ndarray) -> np.ndarray:
    """What every hidden patch shows: the SHAP masker's blur of the whole image, float32."""
    kx, ky = (int(v) for v in re.findall(r"\d+", MASKER))
    return box_blur(image, kx, ky).astype(np.float32)


def masked(images: np.ndarray, fills: np.ndarray, segments: np.ndarray, coalitions: np.ndarray) -> np.ndarray:
    """(B, n, H, W, C) images: image b with the patches outside coalition (B, n, d) showing its fill."""
    on = coalitions[:, :, segments][..., None]  # (B, n, H, W, 1)
    return np.where(on, images[:, None], fills[:, None]).astype(np.float32, copy=False)


# --- the explainer network --------------------------------------------------------------------------------

def build_network(input_shape: tuple, players: str, classes: int, seed: int = 0):
    """A small conv net: [image, fill] (H, W, C, 0..255 each) -> (players, classes) raw Shapley estimates.

    It sees the scan and what the masker puts in its place (scan - fill): with a locally linear model a
    patch's value is about the model's gradient times that difference, so the difference is the natural
    input. Both are resized to R x R (R = the image's side up to 64, at least 4 x the grid) and halved by
    stride-2 stages down to the grid; dilated 3x3 convolutions at grid resolution give each player context
    from the others (a patch's value depends on what else is shown), and a 1x1 convolution gives one value
    per class. Under 250k weights (1 MB): a map costs about a millisecond on 2 cores beside the model's pass.
    """
    import keras

    gh, gw = grid_shape(players)
    g = max(gh, gw)
    r = max(4 * g, min(64, max(int(input_shape[0]), int(input_shape[1]))))
    stages = max(1, int(round(np.log2(r / g))))
    init = keras.initializers.HeNormal
    image, fill = keras.Input(tuple(int(s) for s in input_shape)), keras.Input(tuple(int(s) for s in input_shape))
    diff = keras.layers.Subtract()([image, fill])
    x = keras.layers.Rescaling(1 / 255)(keras.layers.Concatenate()([image, diff]))
    x = keras.layers.Resizing(gh * 2 ** stages, gw * 2 ** stages)(x)
    for i, width in enumerate((16, 32, 64, 64, 64)[:stages]):
        x = keras.layers.Conv2D(width, 3, strides=2, padding="same", activation="relu",
                                kernel_initializer=init(seed=seed + 2 * i))(x)
        x = keras.layers.Conv2D(width, 3, padding="same", activation="relu",
                                kernel_initializer=init(seed=seed + 2 * i + 1))(x)
    for j, rate in enumerate((1, 2)):
        x = keras.layers.Conv2D(64, 3, padding="same", dilation_rate=rate, activation="relu",
                                kernel_initializer=init(seed=seed + 20 + j))(x)
    x = keras.layers.Conv2D(classes, 1, kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 30))(x)
    out = keras.layers.Reshape((gh * gw, classes))(x)
    return keras.Model([image, fill], out, name=f"fastshap_{gh}x{gw}")


def efficient(raw, total):
    """FastSHAP's additive efficiency normalisation (Jethani et al. 2022, eq. 6): add to every player the
    same share of the gap, so the values (B, d, K) sum to ``total`` (B, K) = v(all) - v(none) exactly.
    Works on numpy arrays and on tensors."""
    d = raw.shape[1]
    return raw + (total - raw.sum(axis=1) if isinstance(raw, np.ndarray) else
                  total - _tf().reduce_sum(raw, axis=1))[:, None, :] / d


def _tf():
    import tensorflow as tf

    return tf


# --- storage ----------------------------------------------------------------------------------------------

_hashes: dict[tuple, str] = {}
_hash_lock = threading.Lock()


def model_key(model) -> str:
    """The sha256 of the model file (only the weights and graph: editing its metadata does not stale the
    explainer), remembered per (path, size, mtime); an in-memory model's own ``file_hash``."""
    p = Path(model.path) if getattr(model, "path", "") else None
    if p is None or not p.is_file():
        return str(model.file_hash)
    st = p.stat()
    k = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    with _hash_lock:
        if k not in _hashes:
            _hashes[k] = hashlib.sha256(p.read_bytes()).hexdigest()
        return _hashes[k]


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", str(name)).strip(".") or "model"


def _leaf(players: str, output: str) -> str:
    return f"{players}-{output}"


def shipped_dir(model_name: str, players: str, output: str) -> Path:
    return config.ASSETS_DIR / "fastshap" / _safe_name(model_name) / _leaf(players, output)


def _store_root(model) -> Path:
    """A user model's own folder (``<folder>/.fastshap``: private and deleted with it); any other model's
    (a file elsewhere, a shipped model retrained by the user, an in-memory one) in the user-model area."""
    p = Path(model.path) if getattr(model, "path", "") else None
    if p is not None and p.is_file() and p.resolve().is_relative_to(config.user_models_dir().resolve()):
        return p.resolve().parent / STORE
    return config.user_models_dir() / STORE / _safe_name(model.name)


def user_dir(model, players: str, output: str) -> Path:
    """Where a trained explainer of ``model`` goes by default (keyed by the model file's hash)."""
    key = model_key(model)
    key = key if re.fullmatch(r"[0-9a-f]{64}", key) else hashlib.sha256(key.encode()).hexdigest()
    return _store_root(model) / key[:16] / _leaf(players, output)


def command(model, players: str, output: str) -> str:
    dataset = getattr(getattr(model, "metadata", None), "dataset", "") or "DATASET"
    return (f"python -m xai_core amortise --model {model.name} --dataset {dataset} --players {players} "
            f"--output {output}")


def _how(model, players, output) -> str:
    return f"train one with `{command(model, players, output)}` or the \"{ACTION}\" button on the {PAGE} page"


def read_info(folder: Path) -> dict | None:
    try:
        info = json.loads((folder / INFO_FILE).read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and (folder / NETWORK_FILE).is_file() else None


def locate(model, players: str, output: str) -> tuple[Path, dict]:
    """The folder and info of the trained explainer of ``model`` for this grid and output space; a missing
    one, or one trained for another version of the model file (its hash differs), is refused in one
    sentence that names the command and the button that train one."""
    key = model_key(model)
    for folder in (user_dir(model, players, output), shipped_dir(model.name, players, output)):
        info = read_info(folder)
        if info is None:
            continue
        if info.get("model_hash") == key and list(info.get("class_names", [])) == list(model.class_names):
            return folder, info
        raise InputError(f"The fast explainer of {model.name!r} ({players} players, {output}) was trained for "
                         f"another version of this model file, so its maps would be wrong; {_how(model, players, output)}.")
    others = _store_root(model)
    if others.is_dir() and any(read_info(d / _leaf(players, output)) for d in others.iterdir()):
        raise InputError(f"The fast explainer of {model.name!r} ({players} players, {output}) was trained for "
                         f"another version of this model file, so its maps would be wrong; {_how(model, players, output)}.")
    raise InputError(f"No fast explainer has been trained for {model.name!r} ({players} players, {output}) yet; "
                     f"{_how(model, players, output)}.")


_networks: dict[tuple, object] = {}
_net_lock = threading.Lock()


def load_network(folder: Path, info: dict):
    """The trained network as a compiled function (images, fills) -> (B, d, K), cached per folder and file stamp."""
    from ..models.safe_loading import safe_load_file

    path = folder / NETWORK_FILE
    st = path.stat()
    k = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _net_lock:
        if k not in _networks:
            net = safe_load_file(path, f"the fast explainer of {info.get('model_name', 'this model')}")
            tf = _tf()
            spec = tf.TensorSpec((None, *net.inputs[0].shape[1:]), tf.float32)
            fn = tf.function(lambda x, fill: net([x, fill], training=False), reduce_retracing=True,
                             input_signature=[spec, spec])
            _networks[k] = (net, fn)
        return _networks[k][1]
