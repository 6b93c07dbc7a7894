"""A 24-slice study end to end: read the zip, score every slice, explain every slice, export DICOM.

Run as ``python benchmarks/bench_study.py`` from the repository root (best of 3 runs each; Grad-CAM and
saliency without the disk cache, so every slice is computed).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import best_of  # noqa: E402


def main() -> None:
    from tests import volumes
    from xai_core import models, slices
    from xai_core.data.study import read_volume
    from xai_core.export.dicom import export_dicom

    data = volumes.zipped(volumes.brain_series(24))
    lm = models.load_model("brain-basic-cnn")
    t, vol = best_of(lambda: read_volume(data, "study.zip"), 3)
    print(f"read a 24-slice series zip ({len(data) / 2**20:.2f} MB): {t:.3f} s")
    idx = list(range(24))
    images = slices.slice_images(vol, idx)
    t, _ = best_of(lambda: slices.score_slices(lm, images, idx), 3, warm_up=True)
    print(f"score 24 slices (probabilities, ranking): {t:.3f} s")
    for method in ("grad-cam", "saliency"):
        t, maps = best_of(lambda: slices.explain_slices(lm, images, idx, method, class_name="glioma", cache=None),
                          3, warm_up=True, quiet=True)
        print(f"explain 24 slices with {method}: {t:.2f} s ({t / 24 * 1000:.0f} ms a slice)")
    with tempfile.TemporaryDirectory() as tmp:
        t, _ = best_of(lambda: export_dicom(vol, maps, tmp), 3, quiet=True)
    print(f"export 24 Secondary Captures + 1 Parametric Map (24 frames), de-identified: {t:.2f} s")


if __name__ == "__main__":
    main()
