"""The JSON that travels with every model file (``metadata.json``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

SCALES = {
    "0-1": (1 / 255.0, 0.0),
    "0-255": (1.0, 0.0),
    "-1-1": (2 / 255.0, -1.0),
}


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
