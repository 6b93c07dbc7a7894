"""Hostile inputs built on the fly for the hardening tests (no files are shipped)."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np


def dicom_bytes(rows=64, cols=64, frames=None, private_bytes=0, deflated=False) -> bytes:
    """A small MONOCHROME2 CT slice; optionally a private OB element of ``private_bytes`` zeros and the
    Deflated transfer syntax (a few kB on disk that inflate to ``private_bytes``)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian if deflated else ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    if frames is not None:
        ds.NumberOfFrames = frames
    if private_bytes:
        block = ds.private_block(0x0011, "XAI hostile", create=True)
        block.add_new(0x01, "OB", bytes(private_bytes))
    n = rows * cols * (frames if frames and 0 < frames <= 16 else 1)  # a lying header keeps one frame of pixels
    ds.PixelData = (np.arange(n) % 4096).astype(np.uint16).tobytes()
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def keras_bytes(model, config_json: str | None = None, pad_config_bytes: int = 0) -> bytes:
    """A ``.keras`` zip of ``model`` whose ``config.json`` is replaced (``config_json``) or padded with
    ``pad_config_bytes`` spaces (compresses ~1000:1, so a small file declares a huge member)."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "m.keras"
        model.save(p)
        src = zipfile.ZipFile(p)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                data = src.read(info.filename)
                if info.filename == "config.json":
                    if config_json is not None:
                        data = config_json.encode()
                    if pad_config_bytes:
                        with dst.open("config.json", "w", force_zip64=True) as w:
                            w.write(data[:-1])
                            chunk = b" " * (1 << 20)
                            left = pad_config_bytes
                            while left > 0:
                                w.write(chunk[:left])
                                left -= len(chunk)
                            w.write(data[-1:])
                        continue
                dst.writestr(info.filename, data)
        return out.getvalue()


def deep_json(levels: int) -> str:
    """A config.json nested ``levels`` deep (lists), which a recursive parser cannot read."""
    return '{"class_name": "Functional", "config": ' + "[" * levels + "]" * levels + "}"


def zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


_PEAK = """
import json, resource, subprocess, sys
r = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"rc": r.returncode, "stdout": r.stdout, "stderr": r.stderr,
                  "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def cli_peak(args: list[str], env: dict | None = None, cwd=None) -> dict:
    """Run ``python -m xai_core ARGS`` in a fresh wrapper process; rc, stdout, stderr and the CLI's peak
    resident memory in MB (``RUSAGE_CHILDREN`` of a wrapper that ran only this command)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    out = subprocess.run([sys.executable, "-c", _PEAK, sys.executable, "-m", "xai_core", *args],
                         capture_output=True, text=True, env=full_env, cwd=cwd or root, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def error_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("error:")]
