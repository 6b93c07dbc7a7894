"""A scan volume (a DICOM series, a multi-frame file, a NIfTI image) and its slices in three planes.

A ``Volume`` holds the slices as they were acquired, stacked along the slice
normal in increasing position (index 0 first), with the DICOM patient
geometry (LPS millimetres) kept: the position of each slice's first pixel,
the row and column directions and the spacing. ``slice(i, plane)`` returns
one slice as a ``DicomSlice``, so the window controls, the model input and
the reports treat it exactly like an uploaded single slice. Reslices across
the stack (the two planes other than the acquired one) are offered only when
the spacing is known, resampled to square pixels and shown with the
patient's head up, as viewers do.

``read_volume`` dispatches on the upload: a zip (a DICOM series, or one
NIfTI file), a ``.nii``/``.nii.gz`` file, or a multi-frame DICOM file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ImageError
from .dicom import DicomSlice

PLANE_AXES = {0: "sagittal", 1: "coronal", 2: "axial"}  # LPS axis a plane's normal points along


def plane_name(normal) -> str:
    return PLANE_AXES[int(np.argmax(np.abs(np.asarray(normal, float))))]


@dataclass
class Volume:
    values: np.ndarray  # (N, H, W) float32 in rescaled units, or (N, H, W, 3) uint8 for colour
    info: dict = field(default_factory=dict)  # modality, window, inverted, kind, UIDs, ...
    positions: np.ndarray | None = None  # (N, 3) LPS mm of each slice's first pixel
    orientation: np.ndarray | None = None  # (6,) row direction then column direction (ImageOrientationPatient)
    pixel_spacing: tuple[float, float] | None = None  # (between rows, between columns) in mm
    slice_spacing: float | None = None  # mm between neighbouring slices along the normal
    headers: list | None = field(default=None, repr=False)  # DICOM sources: one dataset per file, no pixel data

    def __len__(self) -> int:
        return int(self.values.shape[0])

    @property
    def is_colour(self) -> bool:
        return self.values.ndim == 4

    @property
    def normal(self) -> np.ndarray | None:
        if self.orientation is None:
            return None
        return np.cross(self.orientation[:3], self.orientation[3:])

    @property
    def spacing(self) -> tuple[float, float, float] | None:
        """(slice, row, column) spacing in mm, or None when the file does not say."""
        if self.slice_spacing is None or self.pixel_spacing is None:
            return None
        return (float(self.slice_spacing), *map(float, self.pixel_spacing))

    def planes(self) -> list[str]:
        """The acquired plane first, then the two reslices when the spacing is known (grey volumes only)."""
        acquired = self.acquired_plane()
        if self.spacing is None or self.is_colour or len(self) < 2 or self.orientation is None:
            return [acquired]
        return [acquired, plane_name(self.orientation[3:]), plane_name(self.orientation[:3])]

    def acquired_plane(self) -> str:
        return plane_name(self.normal) if self.normal is not None else "acquired"

    def count(self, plane: str | None = None) -> int:
        planes = self.planes()
        k = planes.index(plane) if plane in planes else 0
        return (len(self), self.values.shape[1], self.values.shape[2])[k]

    def slice(self, index: int, plane: str | None = None) -> DicomSlice:
        """Slice ``index`` (0-based) of ``plane`` (default: the acquired one) as a ``DicomSlice``."""
        planes = self.planes()
        k = planes.index(plane) if plane in planes else 0
        n = self.count(planes[k])
        if not 0 <= int(index) < n:
            raise ImageError(f"This volume has {n} {planes[k]} slices; slice {int(index) + 1} does not exist.")
        info = {key: v for key, v in self.info.items() if key in _SLICE_INFO}
        info.update(plane=planes[k], slice=int(index) + 1, slices=n,
                    size=tuple(self.values.shape[1:3]))
        if k == 0:
            values = self.values[index]
            return DicomSlice(values if self.is_colour else values.astype(np.float64), info)
        # across the stack: rows run along the slice normal; head up (superior, +z in LPS) at the top
        a = self.values[:, index, :] if k == 1 else self.values[:, :, index]
        along = self.pixel_spacing[1] if k == 1 else self.pixel_spacing[0]
        a = _resample_rows(a.astype(np.float64), self.slice_spacing / along)
        if self.normal[2] >= 0:
            a = a[::-1]
        info["size"] = a.shape
        return DicomSlice(a, info)

    def slice_geometry(self, index: int) -> dict:
        """Position, orientation and spacing of acquired slice ``index`` (for DICOM export); {} if unknown."""
        if self.positions is None or self.orientation is None or self.pixel_spacing is None:
            return {}
        return {"position": tuple(map(float, self.positions[index])),
                "orientation": tuple(map(float, self.orientation)),
                "pixel_spacing": tuple(map(float, self.pixel_spacing)),
                "slice_thickness": float(self.info.get("slice_thickness") or self.slice_spacing or 1.0)}


_SLICE_INFO = {"modality", "photometric", "window", "inverted", "rescale", "transfer_syntax", "frames", "kind"}


def _resample_rows(a: np.ndarray, factor: float) -> np.ndarray:
    """Stretch the rows of ``a`` by ``factor`` (linear), so pixels come out square."""
    n = a.shape[0]
    m = max(1, int(round(n * factor)))
    if m == n:
        return a
    pos = np.clip((np.arange(m) + 0.5) / factor - 0.5, 0, n - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    w = (pos - lo)[:, None]
    return a[lo] * (1 - w) + a[hi] * w


def geometry_spacing(positions: np.ndarray, normal: np.ndarray) -> float | None:
    """The spacing between slices along ``normal`` (median of neighbour distances), or None for one slice."""
    if len(positions) < 2:
        return None
    d = np.diff(positions @ normal)
    return float(np.median(np.abs(d)))


def is_volume_name(filename: str) -> bool:
    return filename.lower().endswith((".zip", ".nii", ".nii.gz"))
