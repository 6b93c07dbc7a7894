"""The OpenVINO forward backend (xai_core/models/openvino_backend.py): fp32 gives TensorFlow's outputs and
maps, a model it cannot convert stays on TensorFlow, bf16 is labelled and cached apart.

The registry's architectures are checked in tests/test_architectures.py, on the model built there."""

import logging

import numpy as np
import pytest

import xai_core as xc
from xai_core import config, precision
from xai_core.cache import DiskCache
from xai_core.explanation import Explanation
from xai_core.models import LoadedModel, ModelMetadata
from xai_core.models import openvino_backend as ob

SHIPPED = sorted(d.name for d in config.SHIPPED_MODELS_DIR.iterdir() if (d / "model.keras").is_file())


def probe_images(shape, n=12, seed=0):
    """Varied inputs: noise, smooth blobs at several brightnesses, black and white."""
    rng = np.random.default_rng(seed)
    h, w, c = shape
    noise = rng.uniform(0, 255, (n // 2, h, w, c))
    coarse = rng.uniform(0, 1, (n - n // 2 - 2, 4, 4, c))
    blobs = np.kron(coarse, np.ones((1, -(-h // 4), -(-w // 4), 1)))[:, :h, :w] * rng.uniform(60, 255, (len(coarse), 1, 1, 1))
    return np.concatenate([noise, blobs, np.zeros((1, h, w, c)), np.full((1, h, w, c), 255.0)]).astype(np.float32)


def assert_openvino_matches(lm, n=12):
    """OpenVINO fp32 converts ``lm`` and equals TensorFlow within 1e-4, with every prediction equal."""
    d = ob.compare_with_tensorflow(lm, probe_images(lm.input_shape, n), "openvino")
    assert d["backend"] == "openvino-fp32", "the model was not converted"
    scale = max(1.0, float(np.abs(lm.forward(probe_images(lm.input_shape, n), backend="tensorflow")[0]).max()))
    assert d["margin"] / scale <= 1e-4 and d["probability"] <= 1e-4, d
    assert d["predictions_equal"] == 1.0, d


def test_fp32_equals_tensorflow_on_every_shipped_model():
    assert len(SHIPPED) >= 8
    for name in SHIPPED:
        assert_openvino_matches(xc.load_model(name))


def test_fp32_is_requested_explicitly_and_bf16_differs(brain_model):
    """The CPU would run bf16 by default: fp32 must be asked for, and the bf16 build really is another
    precision (its outputs move; fp32's do not)."""
    fp32, bf16 = ob.compile_model(brain_model), ob.compile_model(brain_model, bf16=True)
    assert fp32.compiled.get_property("INFERENCE_PRECISION_HINT").to_string() == "f32"
    assert bf16.compiled.get_property("INFERENCE_PRECISION_HINT").to_string() == "bf16"
    x = probe_images(brain_model.input_shape)
    d32 = ob.compare_with_tensorflow(brain_model, x, "openvino")
    d16 = ob.compare_with_tensorflow(brain_model, x, "openvino-bf16")
    assert d16["backend"] == "openvino-bf16" and d16["margin"] > 10 * max(d32["margin"], 1e-7)


def test_a_model_that_fails_conversion_keeps_tensorflow_with_one_log_line(tmp_path, monkeypatch, caplog):
    from tests.conftest import tiny_cnn

    monkeypatch.setenv("XAI_CACHE_DIR", str(tmp_path / "cache"))  # nothing converted before
    folder = tmp_path / "unconvertible"
    folder.mkdir()
    tiny_cnn((16, 16, 1), 3, seed=5).save(folder / "model.keras")
    ModelMetadata(class_names=["a", "b", "c"], input_size=(16, 16), input_channels=1,
                     input_scale="0-1").write(folder / "metadata.json")

    def refuse(model, out):
        raise RuntimeError("Cannot convert: provide example_input")

    monkeypatch.setattr(ob, "export_and_convert", refuse)
    x = probe_images((16, 16, 1))
    with caplog.at_level(logging.INFO, logger=ob.__name__), ob.using("auto"):
        lm = xc.load_model(folder)  # auto resolves at load
        assert lm.backend() == "tensorflow"
        m, p = lm.forward(x)
        lm.forward(x)
    said = [r for r in caplog.records if r.name == ob.__name__]
    assert len(said) == 1 and "could not convert" in said[0].getMessage() and "keeping TensorFlow" in said[0].getMessage()
    m0, p0 = lm.forward(x, backend="tensorflow")
    np.testing.assert_array_equal(m, m0)
    with ob.using("openvino-bf16"):  # an explicit request falls back the same way: never an error
        assert lm.backend() == "tensorflow"
        e = xc.explain(lm, x[0], "occlusion", top_k=1, cache=None)
    assert e.backend == "tensorflow" and not e.approximate


def test_auto_takes_openvino_only_where_the_probe_says_it_is_faster(brain_model, monkeypatch):
    fresh = LoadedModel(brain_model.keras_model, brain_model.metadata, "probe", brain_model.path,
                           brain_model.file_hash)
    timings = {}
    monkeypatch.setattr(ob, "auto_choice", lambda model, compiled, batch: {
        "tensorflow_s": 1.0, "openvino_s": timings["ov"], "batch": batch,
        "choice": ob.OV_FP32 if timings["ov"] < ob.AUTO_MARGIN * 1.0 else ob.TF})
    timings["ov"] = 0.95  # not enough faster
    assert fresh.backend("auto") == "tensorflow"
    fresh._runners.clear()
    timings["ov"] = 0.5
    assert fresh.backend("auto") == "openvino-fp32"
    in_memory = LoadedModel(brain_model.keras_model, brain_model.metadata, "no file", "", "")
    assert in_memory.backend("openvino") == "tensorflow"  # nothing to key a conversion by


def test_shap_maps_equal_under_fp32_and_bf16_is_labelled_and_cached_apart(brain_model, brain, tmp_path):
    image = brain.image("test", 0)
    cache = DiskCache(tmp_path / "results")
    kw = dict(method="shap-partition", top_k=1, max_evals=64, cache=cache)
    with ob.using("tensorflow"):
        tf_map = xc.explain(brain_model, image, **kw)
    with ob.using("openvino"):
        ov_map = xc.explain(brain_model, image, **{**kw, "cache": None})
        fp32_hit = xc.explain(brain_model, image, **kw)
    assert tf_map.backend == "tensorflow" and ov_map.backend == "openvino-fp32" and not ov_map.approximate
    np.testing.assert_array_equal(ov_map.class_indices, tf_map.class_indices)
    np.testing.assert_allclose(ov_map.values, tf_map.values, atol=1e-4 * np.abs(tf_map.values).max())
    assert fp32_hit.cached  # fp32 maps are the same maps, whichever backend computed them
    with ob.using("openvino-bf16"):
        bf16 = xc.explain(brain_model, image, **kw)
        again = xc.explain(brain_model, image, **kw)
    assert not bf16.cached and again.cached  # a key of its own, and served from it next time
    assert bf16.backend == again.backend == "openvino-bf16" and again.approximate
    assert "approximate" in again.backend_label
    assert not np.array_equal(bf16.values, tf_map.values)
    back = Explanation.load(bf16.save(tmp_path / "bf16.npz"))
    assert back.backend == "openvino-bf16" and back.approximate
    # its agreement with the fp32 map of the same scan: served from the cached fp32 map, nothing recomputed
    rows = precision.agreement(brain_model, bf16, compute=False, cache=cache)
    assert len(rows) == 1 and rows[0]["class"] == bf16.class_names[0]
    assert 0.9 < rows[0]["rank correlation"] <= 1 and 0 < rows[0]["largest pixel change"] < 1
    assert precision.agreement(brain_model, bf16, compute=False, cache=DiskCache(tmp_path / "empty")) is None
    # one sentence says so on every page, naming the backend in words; fp32 figures get none
    assert precision.is_approximate(bf16.backend) and not precision.is_approximate(tf_map.backend)
    assert precision.warning_text(bf16.backend).startswith("Computed with OpenVINO bf16 (fast, approximate)")
    assert precision.warning_text(bf16.backend).endswith("exact (fp32) map.")
    assert precision.warning_text(bf16.backend, maps=3, tail=", and x").endswith("(fp32) maps, and x.")


def _bf16_card(path):
    import streamlit as st

    import xai_core as xc
    from pages._ui.trust import _precision_panel  # what trust_card shows first for a bf16 map
    from xai_core.explanation import Explanation

    st.session_state.setdefault("shown", Explanation.load(path))
    _precision_panel(xc.load_model("brain-basic-cnn"), st.session_state["shown"], key="bf16")


def test_trust_card_of_a_bf16_map_says_so_and_compares_with_fp32_on_one_click(brain_model, brain, tmp_path,
                                                                              monkeypatch):
    from streamlit.testing.v1 import AppTest

    import xai_core.cache

    monkeypatch.setattr(xai_core.cache, "DEFAULT_CACHE", DiskCache(tmp_path / "results"))  # no fp32 map yet

    with ob.using("openvino-bf16"):
        e = xc.explain(brain_model, brain.image("test", 3), "occlusion", top_k=1, cache=None)
    at = AppTest.from_function(_bf16_card, args=(str(e.save(tmp_path / "bf16.npz")),), default_timeout=300).run()
    assert not at.exception, at.exception
    assert any("bf16" in w.value and "approximate" in w.value for w in at.warning)
    at.button(key="bf16_fp32").click().run()
    assert not at.exception, at.exception
    said = " ".join(m.value for m in at.markdown)
    assert "Agreement with fp32" in said and "rank correlation" in said and "largest pixel change" in said
    at.run()  # kept: the next run shows it without the button
    assert "Agreement with fp32" in " ".join(m.value for m in at.markdown)
    assert not [b for b in at.button if b.key == "bf16_fp32"]


def test_gradient_methods_stay_on_tensorflow(brain_model, brain):
    with ob.using("openvino-bf16"):
        e = xc.explain(brain_model, brain.image("test", 1), "saliency", top_k=1, cache=None)
    assert e.backend == "tensorflow"


def test_cli_backend_flag_reaches_the_npz(tmp_path):
    from xai_core.cli import main

    out = tmp_path / "e.npz"
    assert main(["--backend", "openvino-bf16", "explain", "--model", "brain-basic-cnn", "--image",
                 "synthetic-brain-mri:test:2", "--method", "occlusion", "--top-k", "1", "--no-cache",
                 "--out", str(out)]) == 0
    assert Explanation.load(out).backend == "openvino-bf16"
    with pytest.raises(SystemExit) as exc:
        main(["explain", "--backend", "nonsense", "--model", "x", "--image", "y", "--out", "z"])
    assert exc.value.code == 2


def test_setting_names_are_checked(monkeypatch, caplog):
    with pytest.raises(ValueError, match="openvino-bf16"):
        ob.check("fast")
    monkeypatch.setenv("XAI_FORWARD_BACKEND", "OpenVINO")
    assert ob.requested() == "openvino"
    monkeypatch.setenv("XAI_FORWARD_BACKEND", "gpu-please")
    assert ob.requested() == ob.DEFAULT


def test_the_out_of_domain_check_runs_in_fp32_even_in_a_bf16_session(brain_model, brain):
    """Evidence is never approximate: a bf16 session's out-of-domain outputs are the fp32 ones (OpenVINO
    fp32, equal to TensorFlow's), so its verdicts and the detector it shares with other sessions match."""
    from xai_core.domain import image_outputs

    images = brain.split("test").images[:6]
    with ob.using("tensorflow"):
        ref = image_outputs(brain_model, images, features=False)
    with ob.using("openvino-bf16"):
        got = image_outputs(brain_model, images, features=False)
        raw = brain_model.forward(np.stack([brain_model.prepare(i) for i in images]))[0]  # the maps' passes
    assert ob.exact_request("openvino-bf16") == "openvino" and ob.exact_request("tensorflow") == "tensorflow"
    np.testing.assert_allclose(got["margin"], ref["margin"], atol=1e-4)
    assert np.abs(raw - ref["margin"]).max() > 1e-3  # while the session's own passes really are bf16


def test_a_cpu_without_bf16_labels_the_bf16_request_as_fp32(brain_model, monkeypatch, caplog):
    """On a CPU without bf16 OpenVINO runs the bf16 request in fp32: the maps are exact, so they must not be
    called approximate (nor cached apart), and one log line says why. Simulated by a core that compiles
    every request in f32, as the plugin does on such a CPU."""
    import logging

    real = ob._ov_core()

    class NoBf16Core:
        def compile_model(self, path, device, config):
            return real.compile_model(path, device, {**config, "INFERENCE_PRECISION_HINT": "f32"})

    monkeypatch.setattr(ob, "_ov_core", lambda: NoBf16Core())
    monkeypatch.setattr(ob, "_compiled", {})
    monkeypatch.setattr(ob, "_said", set())
    with caplog.at_level(logging.INFO):
        got = ob.compile_model(brain_model, bf16=True)
    assert got.label == "openvino-fp32" and not ob.is_approximate(got.label)
    assert any("no bf16 support" in r.getMessage() for r in caplog.records)
    monkeypatch.setattr(ob, "_compiled", {})
    assert ob.compile_model(brain_model, bf16=True).label == "openvino-fp32"  # and only once said
    assert sum("no bf16 support" in r.getMessage() for r in caplog.records) == 1
