"""Peak resident memory of the CLI on hostile files against a normal run of the same command.

    python benchmarks/bench_hostile.py

Each run is a fresh ``python -m xai_core`` under a wrapper process whose ``RUSAGE_CHILDREN`` gives
the CLI's peak. The limits are the defaults except where a row says otherwise; the bombs are built
here (see ``tests/hostile.py``). Also times how long a slow model's explanation runs past ``--timeout``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import tiny_cnn  # noqa: E402
from tests.hostile import cli_peak, deep_json, dicom_bytes, error_lines, keras_bytes  # noqa: E402


def main() -> None:
    d = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    env = {"XAI_USER_MODELS_DIR": str(d / "models")}
    rows = []
    (d / "scan.dcm").write_bytes(dicom_bytes(deflated=True))
    (d / "bomb.dcm").write_bytes(dicom_bytes(private_bytes=512 * 2**20, deflated=True))
    explain = ["explain", "--model", "brain-basic-cnn", "--max-evals", "1000", "--no-cache", "--out", str(d / "e.npz")]
    rows.append(("DICOM, normal (Deflated, 64x64)", (d / "scan.dcm").stat().st_size,
                 cli_peak([*explain, "--image", str(d / "scan.dcm")], env)))
    rows.append(("DICOM, 512 MB private element, Deflated", (d / "bomb.dcm").stat().st_size,
                 cli_peak([*explain, "--image", str(d / "bomb.dcm")], env)))
    model = tiny_cnn((32, 32, 1))
    files = {".keras, normal": keras_bytes(model),
             ".keras, 512 MB config.json": keras_bytes(model, pad_config_bytes=512 * 2**20),
             ".keras, JSON 100,000 levels deep": keras_bytes(model, config_json=deep_json(100_000))}
    for i, (label, data) in enumerate(files.items()):
        f = d / f"m{i}.keras"
        f.write_bytes(data)
        rows.append((label, len(data), cli_peak(["import-model", "--file", str(f), "--name", f"m{i}"], env)))
    print(f"{'input':42} {'file':>10} {'exit':>4} {'peak MB':>8}  message")
    for label, size, r in rows:
        msg = (error_lines(r["stderr"]) or [r["stdout"].strip().splitlines()[0] if r["stdout"].strip() else ""])[0]
        print(f"{label:42} {size / 1024:>8.0f}kB {r['rc']:>4} {r['peak_mb']:>8.0f}  {msg[:110]}")


if __name__ == "__main__":
    main()
