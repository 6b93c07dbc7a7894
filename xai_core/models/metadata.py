"""The JSON that travels with every model file (``metadata.json``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

# How 0..255 pixels become the model's input: (multiplier, offset, reverse RGB to BGR first).
# "-1-1" is keras.applications' "tf" mode; "torch" and "caffe" are its other two preprocessing modes.
SCALES = {
    "0-1": (1 / 255.0, 0.0, False),
    "0-255": (1.0, 0.0, False),
    "-1-1": (2 / 255.0, -1.0, False),
    "torch": ((1 / (255 * 0.229), 1 / (255 * 0.224), 1 / (255 * 0.225)),
              (-0.485 / 0.229, -0.456 / 0.224, -0.406 / 0.225), False),
    "caffe": (1.0, (-103.939, -116.779, -123.68), True),
}
SCALE_HELP = {
    "0-1": "pixels divided by 255 (0 to 1)",
    "0-255": "raw pixels 0 to 255 (the model rescales inside, e.g. a Rescaling layer)",
    "-1-1": "-1 to 1 (keras.applications 'tf' mode: InceptionV3, MobileNet, Xception)",
    "torch": "0 to 1, then ImageNet mean/std per channel (keras.applications 'torch' mode: DenseNet)",
    "caffe": "RGB to BGR, then ImageNet mean subtracted (keras.applications 'caffe' mode: VGG, ResNet50)",
}
PER_CHANNEL = {name for name, (m, a, bgr) in SCALES.items() if bgr or isinstance(m, tuple) or isinstance(a, tuple)}


def scale_range(scale: str) -> tuple[float, float]:
    """The lowest and highest value a 0..255 image can take after ``apply_scale`` (over all channels)."""
    lo, hi = (apply_scale(np.full(3, v, np.float32), scale) for v in (0.0, 255.0))
    return float(np.min(lo)), float(np.max(hi))


def apply_scale(x, scale: str):
    """Scale 0..255 images (numpy arrays or tensors, channels last) the way the model expects."""
    mult, add, bgr = SCALES[scale]
    if bgr:
        x = x[..., ::-1]
    if isinstance(mult, tuple):
        mult = np.asarray(mult, np.float32)
    if isinstance(add, tuple):
        add = np.asarray(add, np.float32)
    return x * mult + add


@dataclass
class ModelMetadata:
    class_names: list[str]
    input_size: tuple[int, int]  # (height, width)
    input_channels: int
    input_scale: str = "0-1"  # how 0..255 pixels map to the model's input, see SCALES
    dataset: str | None = None
    arch: str | None = None
    seed: int | None = None
    test_accuracy: float | None = None
    history: dict = field(default_factory=dict)
    test_metrics: dict = field(default_factory=dict)
    description: str = ""
    trained_with: dict = field(default_factory=dict)

    def to_json(self) -> str:
        d = asdict(self)
        d["input_size"] = list(self.input_size)
        return json.dumps(d, indent=2)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelMetadata":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        known["input_size"] = tuple(known["input_size"])
        return cls(**known)

    @classmethod
    def read(cls, path: Path) -> "ModelMetadata":
        return cls.from_dict(json.loads(Path(path).read_text()))

    def write(self, path: Path) -> None:
        Path(path).write_text(self.to_json() + "\n")
