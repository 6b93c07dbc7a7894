"""Looking inside a model: its layer table, a diagram, and the feature maps of its conv layers.

The thesis (section 4.4, fig. 4.4) shows what every convolutional layer of
its network sees; ``feature_maps`` returns those activations for any image,
computed in one pass through a model that exposes every conv layer's output.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .metadata import apply_scale

CONV_TYPES = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose")
DIAGRAM_MAX_NODES = 120


def _shape(t) -> str:
    shape = getattr(t, "shape", None)
    if shape is None:
        return "?"
    return " x ".join("?" if d is None else str(int(d)) for d in tuple(shape)[1:])


def _inbound(layer) -> list[str]:
    names = []
    for node in getattr(layer, "_inbound_nodes", []):
        for t in getattr(node, "input_tensors", []):
            hist = getattr(t, "_keras_history", None)
            if hist is not None and hist[0].name not in names:
                names.append(hist[0].name)
    return names


def layer_table(keras_model) -> list[dict]:
    """One row per layer: name, type, output shape, parameters, trainable parameters, activation, inputs."""
    rows = []
    for layer in keras_model.layers:
        try:
            out = _shape(layer.output)
        except Exception:  # a layer never called in this graph
            out = "?"
        act = getattr(layer, "activation", None)
        rows.append({
            "layer": layer.name, "type": type(layer).__name__, "output shape": out,
            "parameters": int(layer.count_params()) if layer.built else 0,
            "trainable": int(sum(int(np.prod(w.shape)) for w in layer.trainable_weights)),
            "activation": getattr(act, "__name__", "") if act is not None else "",
            "inputs": ", ".join(_inbound(layer)),
        })
    return rows


def architecture_dot(keras_model, max_nodes: int = DIAGRAM_MAX_NODES) -> str:
    """A Graphviz DOT diagram of the layer graph (top to bottom); long graphs are cut with a note."""
    rows = layer_table(keras_model)
    shown = rows[:max_nodes]
    names = {r["layer"] for r in shown}
    colours = {"Conv2D": "#fde2e4", "Dense": "#e2ece9", "MaxPooling2D": "#dfe7fd", "BatchNormalization": "#f0efeb",
               "Dropout": "#f0efeb", "InputLayer": "#fff1e6"}
    lines = ["digraph model {", '  rankdir=TB; ranksep=0.18; nodesep=0.15; node [shape=box, style="rounded,filled", '
             'fontname="Helvetica", fontsize=9, height=0.3, margin="0.08,0.03", fillcolor="#ffffff"]; '
             'edge [color="#888888", arrowsize=0.5];']
    for r in shown:
        params = f"\\n{r['parameters']:,} params" if r["parameters"] else ""
        label = f"{r['layer']}\\n{r['type']} → {r['output shape']}{params}"
        lines.append(f'  "{r["layer"]}" [label="{label}", fillcolor="{colours.get(r["type"], "#ffffff")}"];')
    previous = None
    for r in shown:
        inputs = [i.strip() for i in r["inputs"].split(",") if i.strip()]
        if not inputs and previous is not None and r["type"] != "InputLayer":
            inputs = [previous]  # Sequential models do not always record their inbound nodes
        for i in inputs:
            if i in names:
                lines.append(f'  "{i}" -> "{r["layer"]}";')
        previous = r["layer"]
    if len(rows) > max_nodes:
        lines.append(f'  more [label="… {len(rows) - max_nodes} more layers (see the table)", shape=plaintext];')
        lines.append(f'  "{shown[-1]["layer"]}" -> more [style=dashed];')
    lines.append("}")
    return "\n".join(lines)


def conv_layers(keras_model) -> list[str]:
    return [layer.name for layer in keras_model.layers if type(layer).__name__ in CONV_TYPES]


_extractors: dict[tuple[str, tuple], object] = {}


def feature_maps(model, image: np.ndarray, layers: list[str] | None = None) -> dict[str, np.ndarray]:
    """Activations (H, W, C) float32 of each named conv layer (default: all) for one 0..255 image."""
    import keras

    km = model.keras_model
    names = conv_layers(km) if layers is None else list(layers)
    if not names:
        raise InputError(f"{model.name} has no convolutional layers to show.")
    unknown = [n for n in names if n not in {layer.name for layer in km.layers}]
    if unknown:
        raise InputError(f"{model.name} has no layer named {', '.join(unknown)}.")
    key = (model.file_hash or str(id(km)), tuple(names))
    if key not in _extractors:
        if len(_extractors) > 8:
            _extractors.clear()
        _extractors[key] = keras.Model(km.inputs[0], [km.get_layer(n).output for n in names])
    x = apply_scale(model.prepare(image)[None].astype(np.float32), model.metadata.input_scale)
    outs = _extractors[key](x, training=False)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    return {n: np.asarray(o)[0] for n, o in zip(names, outs)}
