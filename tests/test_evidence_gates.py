"""No evidence on noise, typed masks, and the out-of-domain gate on cards, the CLI and reports (issue 22)."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

from tests.files import pydicom_file

VERDICTS_GIVEN = ("pass", "warn", "fail")


@pytest.fixture(scope="module")
def scaled_brain(brain_model):
    """brain-basic-cnn with its last layer scaled by 1e-7: the same decisions, outputs that barely move."""
    import keras

    from xai_core.models import LoadedModel

    km = keras.models.clone_model(brain_model.keras_model)
    km.set_weights(brain_model.keras_model.get_weights())
    w, b = km.layers[-1].get_weights()
    km.layers[-1].set_weights([w * 1e-7, b * 1e-7])
    meta = dataclasses.replace(brain_model.metadata, dataset=None)  # no OOD fit for this test double
    return LoadedModel(km, meta, "brain-scaled-1e-7", file_hash="brain-scaled-1e-7")


@pytest.fixture(scope="module")
def untrained():
    """A freshly initialised transfer-style model (its new head starts at zero): a flat 25% on everything,
    like an untrained MobileNetV2 head."""
    import keras
    from keras import layers

    from xai_core.models import LoadedModel, ModelMetadata

    keras.utils.set_random_seed(0)
    inp = keras.Input((32, 32, 1))
    h = layers.GlobalAveragePooling2D()(layers.Conv2D(8, 3, activation="relu")(inp))
    out = layers.Dense(4, activation="softmax", kernel_initializer="zeros")(h)
    meta = ModelMetadata(class_names=["a", "b", "c", "d"], input_size=(32, 32), input_channels=1, input_scale="0-1")
    return LoadedModel(keras.Model(inp, out), meta, "untrained", file_hash="untrained-zero-head")


@pytest.mark.parametrize("which", ["scaled_brain", "untrained"])
def test_a_model_whose_output_does_not_move_earns_no_pass(which, request, brain):
    from xai_core import api, gates, plots, trust
    from xai_core.magnitude import negligible

    lm = request.getfixturevalue(which)
    image = brain.image("test", 1)
    for method in ("integrated-gradients", "grad-cam"):
        e = api.explain(lm, image, method=method, top_k=1, cache=None)
        assert e.info[gates.SPREAD_KEY][0] < 0.01 and negligible(e)[0]
        results = trust.card(lm, e.image, e, ["deletion", "insertion", "faithfulness-correlation"], cache=None)
        assert {r.verdict for r in results.values()} == {"n/a"}
        assert all(gates.reason_of(r) == gates.FLAT_OUTPUT for r in results.values())
        assert all(gates.withheld(r) is not None for r in results.values())  # values on request
        # drawn faintly: at most a tenth of full colour, even for a method that normalises its map
        fig = plots.explanation_figure(e)
        assert fig.layout.coloraxis.cmax >= 10 * plots.symmetric_limit(e.maps()) * (1 - 1e-9)


def test_the_same_brain_model_unscaled_still_gets_verdicts(brain_model, brain):
    from xai_core import api, trust

    e = api.explain(brain_model, brain.image("test", 1), method="integrated-gradients", top_k=1, cache=None)
    results = trust.card(brain_model, e.image, e, ["deletion", "insertion"], cache=None)
    assert all(r.verdict in VERDICTS_GIVEN for r in results.values())


def test_noise_is_left_out_of_the_ranking_with_a_reason(untrained, brain):
    from xai_core import trust

    table = trust.evaluate_methods(untrained, brain, [0, 1], {"integrated-gradients": {}, "saliency": {}},
                                   ["deletion"], cache=None, n_boot=50)
    assert not table.summary["best"].any() and set(table.rows["verdict"]) == {"n/a"}
    assert set(table.excluded) == {"integrated-gradients", "saliency"}
    assert "output does not move" in table.excluded["saliency"]


def test_marker_share_reads_the_marker_mask_and_is_not_applicable_without_one(brain_model, brain):
    from xai_core import api, regions, trust

    e = api.explain(brain_model, brain.image("test", 1), method="integrated-gradients", top_k=1, cache=None)
    lesion = regions.dataset_regions(brain, "test", 1)
    assert lesion[regions.ARTEFACT] is None and lesion[regions.FINDING] is not None
    r = trust.card(brain_model, e.image, e, ["marker-share", "relevance-mass"], mask=lesion[regions.FINDING],
                   masks=lesion, cache=None)
    assert r["marker-share"].verdict == "n/a" and not np.isfinite(r["marker-share"].value)
    assert "never scored on another region" in r["marker-share"].meaning
    assert np.isfinite(r["relevance-mass"].value)


def test_audit_computes_no_marker_share_without_a_marker_and_matches_shortcut_with_one():
    from xai_core import shortcut
    from xai_core.audit import AuditSpec, Auditor

    plain = Auditor(AuditSpec("brain-basic-cnn", "synthetic-brain-mri", methods=("integrated-gradients",),
                              metrics=("marker-share", "relevance-mass")))
    rows = plain(["synthetic-brain-mri:test:1", "synthetic-brain-mri:test:2"])
    assert all(np.isnan(r["marker-share"]) and r["marker-share.verdict"] == "n/a" for r in rows)
    assert any(np.isfinite(r["relevance-mass"]) for r in rows)  # the lesion metric still reads its lesion

    ref = shortcut.audit("brain-tagged-cnn", "synthetic-brain-mri-tagged", ["integrated-gradients"], n=4)
    tagged = Auditor(AuditSpec("brain-tagged-cnn", "synthetic-brain-mri-tagged", methods=("integrated-gradients",),
                               metrics=("marker-share",)))
    ids = [f"synthetic-brain-mri-tagged:test:{i}" for i in ref["indices"]]
    got = {r["index"]: r for r in tagged(ids)}
    compared = 0
    for p in ref["per_image"]:
        row = got[p["index"]]
        if row["withheld"]:  # a scan its own model flags as unusual earns no value (the gate, tested above)
            continue
        assert row["marker-share"] == pytest.approx(p["marker_share"], abs=1e-9)
        compared += 1
    assert compared >= 2


def test_cli_trust_says_not_applicable_outside_the_training_domain(capsys):
    from xai_core.cli import main

    args = ["trust", "--model", "brain-basic-cnn", "--image", str(pydicom_file("MR_small.dcm")),
            "--method", "integrated-gradients", "--metrics", "deletion,insertion", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"deletion", "insertion"}
    for r in out.values():
        assert r["verdict"] == "n/a" and r["value"] is None
        assert r["reason"] == "not applicable: outside the training domain"
    assert main(args + ["--values-anyway"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert all(isinstance(r["withheld_value"], float) and r["verdict"] == "n/a" for r in out.values())


def test_report_puts_the_out_of_domain_verdict_before_the_prediction_and_withholds_verdicts(tmp_path):
    from xai_core import api, report, trust
    from xai_core.data.images import read_scan

    scan, _, _ = report.scan_from_bytes("brain-basic-cnn", pydicom_file("MR_small.dcm").read_bytes(), "MR_small.dcm")
    e = api.explain("brain-basic-cnn", read_scan(pydicom_file("MR_small.dcm"))[0], method="integrated-gradients",
                    top_k=1, cache=None)
    computed = trust.card("brain-basic-cnn", e.image, e, ["deletion", "insertion"], cache=None)
    assert all(r.verdict != "n/a" for r in computed.values())  # ungated, the card would grade this scan
    c = report.case("brain-basic-cnn", scan, [e], trust={e.method: list(computed.values())})
    assert c.verdict.flagged
    assert c.maps[0].trust and all(r.verdict == "n/a" for r in c.maps[0].trust)
    rep = report.assemble([c], ["brain-basic-cnn"])
    for name in ("r.html", "r.pdf"):
        report.write(rep, tmp_path / name)
    html = (tmp_path / "r.html").read_text()
    assert html.index("Out-of-domain check") < html.index("Prediction</h3>")
    assert "outside the training domain" in html
    import pypdf

    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pypdf.PdfReader(tmp_path / "r.pdf").pages))
    assert text.index("Out-of-domain check") < text.index("Prediction")
