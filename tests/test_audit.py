"""Dataset audits: same rows from every engine, resumable without recomputation, bad images as rows."""

import json

import numpy as np
import pandas as pd
import pytest

from tests.cli_run import cli
from tests.files import png

CHEAP = {"shap-partition": {"max_evals": 60}, "lime": {"num_samples": 30}}


def focus_name():
    """The focus score's registry name ("relevance-mass" once the trust metrics land)."""
    from xai_core.metrics import METRICS

    return "focus" if "focus" in METRICS else "relevance-mass"


def spec(limit=8, **kw):
    from xai_core.audit import AuditSpec

    return AuditSpec("brain-basic-cnn", "synthetic-brain-mri", "test", limit=limit,
                     method_params={k: dict(v) for k, v in CHEAP.items()}, **kw)


def timings_dropped(df):
    return df.drop(columns=["seconds"])


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    """The module's data root (XAI_DATA_ROOTS), set before Ray starts so its workers read the same folders."""
    import os

    root = tmp_path_factory.mktemp("data")
    old = os.environ.get("XAI_DATA_ROOTS")
    os.environ["XAI_DATA_ROOTS"] = str(root)
    yield root
    if old is None:
        os.environ.pop("XAI_DATA_ROOTS", None)
    else:
        os.environ["XAI_DATA_ROOTS"] = old


@pytest.fixture(scope="module")
def ray_session(data_root):
    """One local Ray with 2 CPUs for the whole module (Ray starts slowly), shut down afterwards."""
    import ray

    from xai_core.audit.engines import ray_runtime_env

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env=ray_runtime_env())
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def local_audit(tmp_path_factory):
    from xai_core.audit import run_audit

    return run_audit(spec(), tmp_path_factory.mktemp("audit") / "local", engine="local", batch_size=3)


def test_ray_and_local_engines_give_identical_rows(local_audit, ray_session, tmp_path):
    from xai_core.audit import run_audit

    rows = local_audit.rows
    assert rows["image_id"].nunique() == 8 and len(rows) == 16  # 8 scans x 2 methods x the predicted class
    assert list(rows["method"][:2]) == ["shap-partition", "lime"] and (rows["error"] == "").all()
    assert rows[focus_name()].notna().sum() >= 8 and rows["ood_score"].notna().all()
    assert (rows["class"] == rows["predicted_class"]).all()
    # every explained row carries its 32x32 map, so the engines below are compared on the maps too
    assert rows["map"].map(lambda c: isinstance(c, bytes) and len(c) == 32 * 32 * 4).all()
    # the other engines audit the first 4 of those scans (each engine's start-up is the point, not the scans):
    # a row depends on its scan only, so they must equal the local run's rows for those scans, bit for bit
    first4 = timings_dropped(rows[rows["image_id"].isin(rows["image_id"].unique()[:4])]).reset_index(drop=True)
    assert len(first4) == 8
    ray_rows = run_audit(spec(limit=4), tmp_path / "ray", engine="ray", workers=2, batch_size=1).rows
    pd.testing.assert_frame_equal(timings_dropped(ray_rows).reset_index(drop=True), first4, check_exact=True)
    pool_rows = run_audit(spec(limit=4), tmp_path / "pool", engine="local", workers=2, batch_size=2).rows
    pd.testing.assert_frame_equal(timings_dropped(pool_rows).reset_index(drop=True), first4, check_exact=True)


def cold_metrics():
    """Each run's model calls are its own: deletion and insertion keep one scan's random curves in memory
    (``metrics._perturbation``), and randomisation its randomised models' maps, for the next map of that scan."""
    from xai_core.metrics import _perturbation, _randomised

    _perturbation._SHARED.clear()
    _randomised._CACHE.clear()


def test_resumed_audit_equals_uninterrupted_and_recomputes_nothing(local_audit, tmp_path):
    from xai_core.audit import run_audit
    from xai_core.errors import Cancelled
    from xai_core.models import load_model

    lm = load_model("brain-basic-cnn")  # the instance the in-process engine uses
    cold_metrics()
    c0 = lm.calls
    full = run_audit(spec(limit=4), tmp_path / "full", batch_size=2)
    full_calls = lm.calls - c0

    seen = []

    def stop_after_first_batch(f, msg):
        seen.append(msg)
        if "images/s" in msg:
            raise Cancelled("stopped")

    cold_metrics()
    c1 = lm.calls
    with pytest.raises(Cancelled):
        run_audit(spec(limit=4), tmp_path / "resumed", batch_size=2, progress=stop_after_first_batch)
    first_calls = lm.calls - c1
    assert "2 / 4 images" in seen[-1] and "left" in seen[-1]
    assert not (tmp_path / "resumed" / "rows.parquet").exists() and len(list((tmp_path / "resumed" / "parts").iterdir())) == 1
    c2 = lm.calls
    resumed = run_audit(spec(limit=4), tmp_path / "resumed", batch_size=2)
    assert (resumed.skipped, resumed.computed) == (2, 2)
    assert 0 < first_calls < full_calls and first_calls + (lm.calls - c2) == full_calls
    pd.testing.assert_frame_equal(timings_dropped(resumed.rows), timings_dropped(full.rows), check_exact=True)
    pd.testing.assert_frame_equal(timings_dropped(full.rows), timings_dropped(local_audit.rows.iloc[:8]),
                                  check_exact=True)
    c3 = lm.calls
    again = run_audit(spec(limit=4), tmp_path / "resumed", batch_size=2)
    assert lm.calls == c3 and again.computed == 0 and again.skipped == 4
    pd.testing.assert_frame_equal(again.rows, resumed.rows, check_exact=True)
    # each map stored once, beside its row; the readable tables hold no map cells
    maps = np.load(tmp_path / "resumed" / "maps.npz")
    keys = list(zip(maps["image_id"], maps["method"], maps["class_index"]))
    assert len(keys) == len(set(keys)) == len(resumed.rows) == 8
    assert "map" not in pd.read_parquet(tmp_path / "resumed" / "rows.parquet")
    assert "map" not in pd.read_csv(tmp_path / "resumed" / "rows.csv")


def test_outputs_on_disk_and_summary_intervals(local_audit):
    out = local_audit.out
    s = json.loads((out / "summary.json").read_text())
    assert s["images"] == 8 and s["rows"] == 16 and s["errors"] == {"images": 0, "rows": 0, "examples": []}
    r = local_audit.rows
    for e in s["overall"] + s["by_class"] + s["by_outcome"]:
        if e["n"] > 1:
            assert e["lo"] <= e["mean"] <= e["hi"]
    # where the values vary, the interval has width (a constant metric, e.g. completeness 0, has none)
    for e in s["overall"]:
        v = r.loc[r["method"] == e["method"], e["metric"]].dropna() if e["metric"] in r else None
        if v is not None and len(v) > 1 and v.nunique() > 1:
            assert e["lo"] < e["hi"], e
    overall = {(e["method"], e["metric"]): e for e in s["overall"]}
    f = focus_name()
    focus = r.loc[r["method"] == "lime", f].dropna()
    assert overall["lime", f]["mean"] == pytest.approx(focus.mean()) and overall["lime", f]["n"] == len(focus)
    assert {e["true_class"] for e in s["by_class"]} <= {"glioma", "meningioma", "no_tumor", "pituitary"}
    csv = pd.read_csv(out / "rows.csv")
    np.testing.assert_allclose(csv[f], r[f], rtol=1e-12)
    assert (out / "spec.json").is_file() and (out / "rows.parquet").is_file()


def test_bootstrap_interval_matches_the_normal_approximation():
    from xai_core.audit import bootstrap_mean

    v = np.random.default_rng(1).normal(0.3, 0.1, 400)
    b = bootstrap_mean(np.r_[v, np.nan])
    half = 1.96 * v.std(ddof=1) / np.sqrt(len(v))
    assert b["n"] == 400 and b["lo"] < b["mean"] < b["hi"]
    assert b["lo"] == pytest.approx(v.mean() - half, abs=0.15 * half)
    assert b["hi"] == pytest.approx(v.mean() + half, abs=0.15 * half)
    assert bootstrap_mean([np.nan])["mean"] is None


def test_corrupt_image_in_a_folder_dataset_becomes_an_error_row(tmp_path, monkeypatch):
    from xai_core.audit import AuditSpec, run_audit

    root = tmp_path / "data"
    monkeypatch.setenv("XAI_DATA_ROOTS", str(root))
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for c, level in (("dark", 40), ("bright", 200)):
            d = root / "scans" / split / c
            d.mkdir(parents=True)
            for i in range(2):
                (d / f"{i}.png").write_bytes(png(np.clip(rng.normal(level, 20, (32, 32)), 0, 255).astype(np.uint8)))
    (root / "scans" / "test" / "dark" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    s = AuditSpec("brain-basic-cnn", "folder:scans", "test", methods=("lime",),
                  method_params={"lime": {"num_samples": 30}})
    r = run_audit(s, tmp_path / "out", batch_size=2)
    rows = r.rows.set_index("image_id")
    assert len(rows) == 5 and "test/dark/broken.png" in rows.index
    bad = rows.loc["test/dark/broken.png"]
    assert bad["error"] and bad["class_index"] == -1 and pd.isna(bad["predicted_class"])
    good = rows.drop("test/dark/broken.png")
    assert (good["error"] == "").all() and good[f"{focus_name()}.verdict"].eq("n/a").all()  # folders carry no masks
    assert set(good["true_class"]) == {"dark", "bright"}
    assert r.summary["errors"]["images"] == 1 and r.summary["errors"]["rows"] == 1


def _cli(*args):
    from xai_core.cli import main

    return main(list(args))


@pytest.mark.parametrize("args, needle", [
    (["--classes", "some"], "invalid choice"),
    (["--limit", "0"], "--limit must be at least 1"),
    (["--methods", "shap-partiton"], "Did you mean 'shap-partition'"),
    (["--address", "ray://nowhere:10001"], "--address names a Ray cluster"),
    (["--param", "max_evals=5"], "METHOD.NAME=VALUE"),
    (["--param", "shap-partition.max_evals=1"], "max_evals must be at least 10"),
    (["--metrics", "no-such-metric"], "Unknown metric 'no-such-metric'"),
])
def test_bad_arguments_exit_2_with_one_line(args, needle, tmp_path, capsys):
    base = ["audit", "--model", "brain-basic-cnn", "--dataset", "synthetic-brain-mri", "--out", str(tmp_path / "o")]
    try:
        code = _cli(*base, *args)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error:") and needle in err[0], err


def test_a_rerun_with_other_settings_is_refused(local_audit, capsys):
    code = _cli("audit", "--model", "brain-basic-cnn", "--dataset", "synthetic-brain-mri", "--methods", "lime",
                "--out", str(local_audit.out))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "different settings (method_params, methods)" in err[0]


def test_cli_audit_resumes_a_finished_folder_and_copies_the_command(local_audit):
    r = cli("audit", "--model", "brain-basic-cnn", "--dataset", "synthetic-brain-mri", "--limit", "8",
            "--param", "shap-partition.max_evals=60", "--param", "lime.num_samples=30", "--out", local_audit.out)
    assert r.returncode == 0, r.stderr
    assert "8 images (0 computed now, 8 already done)" in r.stdout and focus_name() in r.stdout
    assert "python -m xai_core audit --model brain-basic-cnn" in (local_audit.out / "command.txt").read_text()


@pytest.fixture(scope="module")
def study_folder(data_root):
    """A folder dataset of studies, as clinics and collections keep them: a DICOM series folder and a NIfTI
    volume of glioma, a series folder and a loose PNG of no tumour; (data root, {case: slice pixels})."""
    from tests import volumes

    root = data_root
    test = root / "studies" / "test"
    series = {"test/glioma/patient1": volumes.brain_slices(3, lesion=(1,), seed=3),
              "test/no_tumor/patient3": volumes.brain_slices(2, lesion=(), seed=5)}
    for case, pixels in series.items():
        (root / "studies" / case).mkdir(parents=True)
        for i, p in enumerate(pixels):
            (root / "studies" / case / f"IM{(i * 7) % 10}.dcm").write_bytes(
                volumes.mr_file(p, i, 5.0 * i, series_uid=f"{volumes.SERIES_UID}.{case[-1]}"))
    nifti = volumes.brain_slices(3, lesion=(1,), seed=9)
    # stored so that nibabel's canonical (RAS) order reads back as these axial slices
    data = np.stack([s.T[::-1, ::-1] for s in nifti], axis=-1).astype(np.int16)
    (test / "glioma" / "patient2.nii.gz").write_bytes(volumes.nifti(data, np.eye(4)))
    (test / "no_tumor" / "single.png").write_bytes(png(volumes.brain_slices(1, lesion=(), seed=11)[0]))
    for c in ("glioma", "no_tumor"):  # a training split, so test/ is read as a split, not a wrapper folder
        (root / "studies" / "train" / c).mkdir(parents=True)
        (root / "studies" / "train" / c / "0.png").write_bytes(png(volumes.brain_slices(1, lesion=(), seed=13)[0]))
    return root, {**series, "test/glioma/patient2.nii.gz": nifti}


def test_a_folder_of_studies_is_audited_slice_by_slice_with_a_summary_per_case(study_folder, ray_session, tmp_path):
    from xai_core.audit import AuditSpec, run_audit
    from xai_core.audit.batch import ImageSource
    from xai_core.data.folder import load_folder

    root, cases = study_folder
    s = AuditSpec("brain-basic-cnn", "folder:studies", "test", methods=("grad-cam",), metrics=(focus_name(),))
    r = run_audit(s, tmp_path / "local", batch_size=3)
    rows = r.rows.set_index("image_id")
    assert list(rows.index) == ([f"test/glioma/patient1:{i}" for i in (1, 2, 3)]
                                + [f"test/glioma/patient2.nii.gz:{i}" for i in (1, 2, 3)]
                                + [f"test/no_tumor/patient3:{i}" for i in (1, 2)] + ["test/no_tumor/single.png"])
    assert (rows["error"] == "").all()
    one = rows.loc["test/glioma/patient1:2"]
    assert (one["case"], one["slice"], one["slices"], one["plane"], one["modality"], one["study"], one["spacing"]) == (
        "test/glioma/patient1", 2, 3, "axial", "MR", "dicom-series", "5 x 1.5 x 1.5 mm")
    assert rows.loc["test/glioma/patient2.nii.gz:1", "study"] == "nifti"
    assert (rows.loc["test/no_tumor/single.png", "slice"], rows.loc["test/no_tumor/single.png", "case"]) == (
        -1, "test/no_tumor/single.png")
    # each slice is the study's slice in its own order and window (a series ordered by position, not file name)
    source = ImageSource(s)
    for case, pixels in cases.items():
        if case.endswith(".nii.gz"):  # NIfTI carries no window: the volume's 0.5-99.5 percentile range
            lo, hi = np.percentile(pixels, [0.5, 99.5])
            pixels = np.clip((pixels - lo) / (hi - lo), 0, 1) * 255
        for i, expected in enumerate(pixels):
            got = source.load(f"{case}:{i + 1}")[0][..., 0].astype(int)
            assert np.abs(got - expected.astype(int)).max() <= 2, (case, i)
    # one entry per study: its most suspicious slice is a lesion slice, and a study without one stays low
    by_case = {c["case"]: c for c in r.summary["cases"]}
    assert set(by_case) == {"test/glioma/patient1", "test/glioma/patient2.nii.gz", "test/no_tumor/patient3"}
    assert by_case["test/glioma/patient1"]["top_slice"] == 2 and by_case["test/glioma/patient2.nii.gz"][
        "top_slice"] == 2
    for case in ("test/glioma/patient1", "test/glioma/patient2.nii.gz"):
        assert by_case[case]["max_suspicion"] > 0.5 and by_case[case]["predicted_at_top"] == "glioma"
    assert by_case["test/no_tumor/patient3"]["max_suspicion"] < 0.5
    assert by_case["test/glioma/patient1"]["max_suspicion"] == rows.loc[
        [f"test/glioma/patient1:{i}" for i in (1, 2, 3)], "suspicion"].max()
    # Ray's callable (what map_batches runs in each actor, with the model sent as bytes) gives the same rows;
    # test_ray_and_local_engines_give_identical_rows runs it under Ray Data itself
    from xai_core.audit.batch import model_files
    from xai_core.audit.engines import RayAuditor
    from xai_core.audit.storage import frame

    actor = RayAuditor(s.to_json(), [ray_session.put(model_files(s))])
    ids = np.array(list(rows.index), dtype=object)
    ray_rows = frame(pd.concat([actor({"image_id": ids[i:i + 4]}) for i in range(0, len(ids), 4)]).to_dict(
        "records"), actor.auditor.columns)
    pd.testing.assert_frame_equal(timings_dropped(ray_rows), timings_dropped(r.rows), check_exact=True)
    # the decoded dataset holds the same slices, and a study's slices stay in one split
    ds = load_folder(root / "studies")
    assert len(ds.split("test")) == 9 and list(ds.split("test").labels).count(ds.class_names.index("glioma")) == 6
