"""Strategies (SpRAy): planted groups of maps are recovered exactly, flags follow where the evidence sits,
results are deterministic, and an audit's stored maps cluster through the same call the CLI and page use."""

import json

import numpy as np
import pytest

S = 32


def blob(cy, cx, r=3.0):
    y, x = np.mgrid[:S, :S]
    return np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * r * r))


def planted(n=30, seed=0):
    """Three strategies: evidence in the top-right corner, at the centre, and at the left edge's middle;
    each map shifted by up to 2 cells, with negative noise (which the positive part ignores) and a little
    positive noise."""
    rng = np.random.default_rng(seed)
    centres = [(3, 28), (16, 16), (16, 9)]
    maps, truth = [], []
    for g, (cy, cx) in enumerate(centres):
        for _ in range(n):
            dy, dx = rng.integers(-2, 3, 2)
            m = blob(cy + dy, cx + dx) * rng.uniform(0.5, 2.0) + rng.normal(0, 0.02, (S, S))
            maps.append(m)
            truth.append(g)
    order = rng.permutation(len(maps))
    return np.array(maps)[order], np.array(truth)[order]


def test_planted_groups_are_recovered_exactly_and_the_corner_one_is_flagged():
    from sklearn.metrics import adjusted_rand_score

    from xai_core.strategies import discover

    maps, truth = planted()
    ids = [f"s{i}" for i in range(len(maps))]
    meta = [{"true_class": "a", "predicted_class": "a", "correct": True}] * len(maps)
    r = discover(maps, ids, meta)
    assert r.k == 3 and r.k_chosen_by == "eigengap" and r.left_out == 0
    assert adjusted_rand_score(truth, r.labels) == 1.0
    flagged = {c.id: c.suspicious for c in r.clusters}
    corner_cluster = r.labels[np.flatnonzero(truth == 0)[0]]
    assert flagged[corner_cluster] and "top-right corner" in r.clusters[corner_cluster].reason
    assert sum(flagged.values()) == 1  # the centre and the left-middle strategies are not flagged
    assert sorted(c.size for c in r.clusters) == [30, 30, 30]
    for c in r.clusters:
        assert c.prototype.sum() == pytest.approx(1.0) and len(c.nearest) == 6
        assert set(c.nearest) <= {ids[i] for i in np.flatnonzero(r.labels == c.id)}


def test_same_seed_same_strategies_and_a_given_k_is_used():
    from xai_core.strategies import discover

    maps, _ = planted(seed=1)
    ids = [str(i) for i in range(len(maps))]
    meta = [{}] * len(maps)
    a, b = discover(maps, ids, meta, seed=3), discover(maps, ids, meta, seed=3)
    assert json.dumps(a.to_json()) == json.dumps(b.to_json())
    two = discover(maps, ids, meta, k=2)
    assert two.k == 2 and two.k_chosen_by == "given" and len(two.clusters) == 2


def test_lesion_and_outside_shares_come_from_the_masks_and_images():
    from xai_core.strategies import shares

    p = np.zeros((2, S, S))
    p[:, 0:4, 0:4] = 1 / 16  # all evidence in the top-left 4x4 cells
    lesion = np.zeros((S, S))
    lesion[0:4, 0:2] = 1.0  # the lesion covers half of it
    fg = np.ones((S, S))
    fg[0:4, :] = 0  # the top four rows are outside the body
    s = shares(p, [fg, fg], [lesion, None])
    assert s.corners["top-left"] == pytest.approx(1.0) and s.border == pytest.approx(12 / 16)  # a 2-cell band
    assert s.outside == pytest.approx(1.0) and s.lesion == pytest.approx(0.5)
    assert s.lesion_area == pytest.approx(8 / S ** 2)


def test_maps_without_positive_evidence_are_left_out_and_too_few_maps_say_so():
    from xai_core.errors import InputError
    from xai_core.strategies import discover

    maps, _ = planted(n=10)
    maps = np.concatenate([maps, -np.ones((4, S, S))])
    ids = [str(i) for i in range(len(maps))]
    r = discover(maps, ids, [{}] * len(maps))
    assert r.left_out == 4 and len(r.image_ids) == 30
    with pytest.raises(InputError, match="at least 3 maps"):
        discover(-np.ones((5, S, S)), list("abcde"), [{}] * 5)


@pytest.fixture(scope="module")
def small_audit(tmp_path_factory):
    """A small audit (saliency, 12 scans) and its folder."""
    from xai_core.audit import AuditSpec, run_audit

    tmp = tmp_path_factory.mktemp("strategies")
    spec = AuditSpec("brain-basic-cnn", "synthetic-brain-mri", "test", methods=("saliency",),
                     metrics=("deletion",), limit=12)
    return run_audit(spec, tmp / "audit", batch_size=6), tmp


def test_an_audits_maps_cluster_from_the_cli(small_audit, capsys):
    """A small audit (saliency, 12 scans) keeps a map per row equal to the explanation reduced to 32x32, and
    `strategies` clusters them into a JSON the page reads."""
    from xai_core import explain, load_model
    from xai_core.audit.maps import from_cell, reduce_map

    res, tmp_path = small_audit
    row = res.rows.iloc[3]
    from xai_core.data.refs import load_image

    image = load_image(row["image_id"])
    e = explain(load_model("brain-basic-cnn"), image, method="saliency", output="margin",
                classes=[int(row["class_index"])], cache=None)
    assert np.array_equal(from_cell(row["map"]), reduce_map(e.values[0]))
    from xai_core.cli import main

    out = tmp_path / "strategies"
    capsys.readouterr()
    assert main(["strategies", "--audit", str(tmp_path / "audit"), "--json", "--out", str(out)]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["method"] == "saliency"
    assert sum(c["size"] for c in got["clusters"]) + got["left_out"] + sum(got["withheld"].values()) == 12
    assert json.loads((out / "strategies.json").read_text()) == got
    assert (out / "clusters.csv").read_text().startswith("cluster,size")
    assert main(["strategies", "--audit", str(tmp_path / "audit"), "--method", "lime"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no maps of 'lime'" in err


def test_withheld_maps_are_not_clustered_as_the_leaderboard_leaves_them_out(small_audit, tmp_path):
    """Rows the audit withheld (outside the training domain, a negligible map: ``xai_core.gates``) are no
    strategy of the model's: the clusters hold the other maps and the result counts the withheld by reason."""
    import shutil

    import pandas as pd

    from xai_core import gates
    from xai_core.audit.storage import ROWS_FILE, AuditStore
    from xai_core.errors import InputError
    from xai_core.strategies import from_audit

    _, built = small_audit
    folder = tmp_path / "audit"
    shutil.copytree(built / "audit", folder)
    path = AuditStore(folder).file(ROWS_FILE)
    rows = pd.read_parquet(path)
    flagged = rows["withheld"].fillna("") == gates.OUT_OF_DOMAIN  # the audit's own out-of-domain scans
    assert from_audit(folder, with_images=False).withheld == ({gates.OUT_OF_DOMAIN: int(flagged.sum())}
                                                              if flagged.any() else {})
    rows.loc[rows.index[:3], "withheld"] = gates.OUT_OF_DOMAIN
    rows.loc[rows.index[3:4], "withheld"] = gates.NEGLIGIBLE
    rows.to_parquet(path)
    out_of_domain = int((flagged | (rows.index < rows.index[3])).sum())
    out = from_audit(folder, with_images=False)
    assert out.withheld == {gates.OUT_OF_DOMAIN: out_of_domain, gates.NEGLIGIBLE: 1}
    assert len(out.image_ids) + out.left_out == 12 - out_of_domain - 1
    assert set(out.image_ids).isdisjoint(rows["image_id"][rows["withheld"].fillna("") != ""])
    assert out.to_json()["withheld"] == out.withheld
    rows["withheld"] = gates.OUT_OF_DOMAIN
    rows.to_parquet(path)
    with pytest.raises(InputError, match="withheld"):
        from_audit(folder, with_images=False)
