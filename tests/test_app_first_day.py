"""What a user hits on the first day (issue 28), where the state lives in Streamlit: AppTest."""

import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

TIMEOUT = 300


def _labelled(widgets, start: str):
    return next(w for w in widgets if w.label.startswith(start))


def test_stop_during_refinement_keeps_the_latest_finished_step_of_the_new_scan(monkeypatch):
    """Stop while SHAP sharpens the maps of a new scan: the page keeps that scan's latest finished step and
    says how far it got, instead of going back to the previous scan's maps."""
    import pages._ui.progressive as progressive

    real = progressive.explain_progressive
    # the first scan's maps at a small budget (the page opens at 1,000): only which scan they are for matters
    monkeypatch.setattr(progressive, "explain_progressive", lambda *a, **k: real(*a, **{**k, "max_evals": 100}))
    at = AppTest.from_file(str(ROOT / "pages/shap_margin_vs_probability.py"), default_timeout=TIMEOUT)
    at.session_state["_w_index"] = 0
    at.run()
    assert not at.exception and not at.error
    assert at.session_state["shap_mvp_result"]["request"]["scan"]["index"] == 0

    def stops_at_the_second_step(*args, **kwargs):
        # (no disk cache: a final map cached by an earlier test run would be served at once, in one step)
        for i, step in enumerate(real(*args, **{**kwargs, "cache": None})):
            if i == 1:
                st.stop()  # what a Stop click does: the script ends at its next Streamlit call
            yield step

    monkeypatch.setattr(progressive, "explain_progressive", stops_at_the_second_step)
    at.number_input(key="_w_index").set_value(5)
    _labelled(at.slider, "max_evals").set_value(400)  # max_evals: a schedule of 100, then 400
    _labelled(at.button, "Explain").click().run()  # Explain (the form's submit button)
    monkeypatch.setattr(progressive, "explain_progressive", real)
    at.run()  # the rerun the Stop click causes
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = at.session_state["shap_mvp_result"]
    assert shown["request"]["scan"]["index"] == 5, "went back to the previous scan's maps"
    assert shown["margin"].params["max_evals"] == 100 and shown["probability"].params["max_evals"] == 100
    assert any("Stopped after step 1 of 2" in w.value and "100" in w.value for w in at.warning), \
        [w.value for w in at.warning]
    assert any("100 evaluations per map" in c.value for c in at.caption)
    assert not any("previous settings" in c.value for c in at.caption)
    at.run()  # any later rerun (a toggle) still shows the stopped maps and says so
    assert at.session_state["shap_mvp_result"]["request"]["scan"]["index"] == 5
    assert any("Stopped after step 1 of 2" in w.value for w in at.warning)
    # choosing the class handout keeps the report section open (it used to fold on the rerun)
    report = next(e for e in at.expander if e.label.startswith("Download report"))
    assert not report.proto.expanded
    at.radio(key="shap_report_kind").set_value("handout").run()
    report = next(e for e in at.expander if e.label.startswith("Download report"))
    assert report.proto.expanded and at.radio(key="shap_report_kind").value == "handout"


def test_shortcut_page_reports_true_wall_time_runs_its_control_and_says_what_better_means(monkeypatch):
    import re
    import time

    import xai_core.training as training

    real, calls = training.train, []

    def slow_train(*args, **kwargs):
        calls.append(kwargs)
        time.sleep(2.0)  # work the model's own fit timer does not see (as explaining training scans is)
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "train", slow_train)
    at = AppTest.from_file(str(ROOT / "pages/shortcut.py"), default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    # a drop in accuracy is a difference of two percentages: percentage points, not a percent
    deltas = [m.delta for m in at.metric if m.delta]
    assert deltas and all(re.fullmatch(r"[+-]\d+(\.\d)? pp", d) for d in deltas), deltas
    assert any("percentage points" in m.value for m in at.markdown if "once the shortcut is gone" in m.value)
    captions = " ".join(c.value for c in at.caption)
    assert "a lower marker share is better" in captions and "**hides** it" in captions
    at.number_input(key="sc_epochs").set_value(1)
    at.number_input(key="sc_limit").set_value(8)
    at.number_input(key="sc_guide_images").set_value(2)
    at.button(key="sc_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [bool(c.get("guided_augmentation")) for c in calls] == [True, False]
    assert calls[1]["random_erasing"] is True and 0 < calls[1]["erase_area"] < 1  # same area as the guided run
    said = next(s.value for s in at.success if "Retrained" in s.value)
    assert int(re.search(r" in (\d+) s", said).group(1)) >= 4, said  # both 2-s sleeps are in the wall time
    roles = list(at.dataframe[0].value["role"])
    assert "guided (this run)" in roles and "random-erasing control (this run)" in roles, roles


def test_compare_shows_focus_and_its_chance_level_readably():
    """The focus scores under the panels are at the title's size (no 7-px <sup>), with the chance level, and
    the table shows both focus columns next to the prediction instead of past the right edge."""
    import json

    at = AppTest.from_file(str(ROOT / "pages/compare_architectures.py"), default_timeout=TIMEOUT)
    at.session_state["cmp_shap-partition_max_evals"] = 300
    at.run()
    at.multiselect(key="cmp_models_synthetic-brain-mri").set_value(["brain-basic-cnn", "lung-basic-cnn"])
    at.multiselect(key="cmp_images_synthetic-brain-mri").set_value([2])
    at.button(key="cmp_start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    titles = [a["text"] for a in fig["layout"]["annotations"] if "focus" in a.get("text", "")]
    assert titles and all("<sup>" not in t and "chance" in t for t in titles), titles
    assert fig["layout"]["annotations"][0]["font"]["size"] >= 12
    grid = at.dataframe[0]
    order = list(grid.proto.column_order)
    assert "focus by chance" in order[:8], order
    assert grid.value["focus by chance"].between(0, 1).all()


def test_trust_page_estimates_from_a_forward_pass_timed_here(monkeypatch):
    """No fixed "about a minute": the estimate is the counted model evaluations times a timed forward pass,
    so a model ten times slower gets an estimate ten times longer."""
    import xai_core.models.timing as timing
    from xai_core import estimate

    def estimate_with(per_image: float) -> str:
        monkeypatch.setattr(timing, "forward_seconds", lambda model, batch_size=256: per_image)
        st.cache_data.clear()  # the page keeps its timing per model
        at = AppTest.from_file(str(ROOT / "pages/trust.py"), default_timeout=TIMEOUT).run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert not any("about a minute" in i.value for i in at.info)
        return next(c.value for c in at.caption if c.value.startswith("Estimate:"))

    fast, slow = estimate_with(0.0005), estimate_with(0.05)
    methods = ["shap-partition", "lime", "integrated-gradients", "grad-cam"]
    metrics = ["deletion", "insertion", "relevance-mass", "pointing-game", "relevance-rank"]
    passes = estimate.trust_seconds(1.0, methods, metrics, 16)
    assert passes > 16 * (1000 + 1000)  # SHAP's and LIME's 1,000 evaluations per map at the least
    assert estimate.words(0.05 * passes) in slow and "50.0 ms" in slow, slow
    assert estimate.words(0.0005 * passes) in fast and "0.5 ms" in fast, fast


def test_find_a_model_estimates_from_each_models_timed_forward_pass(monkeypatch):
    """No "a few seconds each": pressing the button times each other model's forward pass here and states
    the wait from it before the checks run, so models ten times slower get an estimate ten times longer;
    progress is model by model under a Stop button."""
    import xai_core.domain as domain
    import xai_core.models.timing as timing
    from pages._ui import widgets
    from pages._ui.literal import lit
    from xai_core import estimate

    others = ["brain-augmented-cnn"]
    monkeypatch.setattr(widgets, "models", lambda: [{"name": n} for n in ["brain-basic-cnn", *others]])
    monkeypatch.setattr(domain, "images_to_fit", lambda model, *a, **k: 3000)  # as on a model's first check
    monkeypatch.setattr(domain, "accepting_models", lambda image, models, *a, **k: [])  # the check is not the point

    def page():
        import numpy as np

        from pages._ui import widgets

        noise = np.random.default_rng(0).uniform(0, 255, (128, 128, 1)).astype(np.float32)
        widgets.domain_warning("brain-basic-cnn", noise)

    def estimate_with(per_image: float) -> str:
        monkeypatch.setattr(timing, "forward_seconds", lambda model, batch_size=256: per_image)
        st.cache_data.clear()  # the pages keep their timing per model
        at = AppTest.from_function(page, default_timeout=TIMEOUT).run()
        button = _labelled(at.button, "Find a model")
        assert "a few seconds" not in button.help and "times its forward pass" in button.help, button.help
        at = button.click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert any("no other model here" in i.value for i in at.info), "the checks did not finish"
        return next(c.value for c in at.caption if c.value.startswith("Estimate:"))

    fast, slow = estimate_with(0.001), estimate_with(0.01)
    for per, text in ((0.001, fast), (0.01, slow)):
        expected = len(others) * estimate.domain_check_seconds(per, 3000, has_features=True)
        assert estimate.words(expected) in text and f"{per * 1000:.1f} ms per image" in text, text
        assert "3,000 training scans" in text and all(lit(n) in text for n in others), text
    assert fast != slow


def test_images_to_fit_counts_what_a_first_out_of_domain_check_still_runs(brain_model, brain, tmp_path):
    """The find-a-model estimate multiplies the timed pass by the training images still to run: all three
    splits on a cold cache, none of a split whose outputs are cached, none once the detector is fitted."""
    from xai_core import domain
    from xai_core.cache import DiskCache

    cold = DiskCache(tmp_path)
    sizes = {s: len(brain.split(s)) for s in ("train", "val", "test")}
    domain.forget_detectors(brain_model.file_hash)  # as in a fresh process
    assert domain.images_to_fit(brain_model, cache=cold) == sum(sizes.values())
    domain.split_outputs(brain_model, "synthetic-brain-mri", "test", cache=cold)
    assert domain.images_to_fit(brain_model, cache=cold) == sizes["train"] + sizes["val"]
    domain.ood_detector(brain_model)
    assert domain.images_to_fit(brain_model, cache=cold) == 0


def test_no_page_promises_a_fixed_duration():
    """Durations on the pages come from a timed forward pass (xai_core.estimate), never a fixed promise that is
    wrong for every model but one."""
    import ast
    import re

    fixed = re.compile(r"about a (minute|second)|a few (seconds|minutes)|tens of seconds|about \d+ (s|min)\b"
                       r"|on (a )?(2|two)[- ]cores?")
    found = []
    for path in sorted((ROOT / "pages").rglob("*.py")):
        tree = ast.parse(path.read_text())
        docs = {id(n.body[0].value) for n in ast.walk(tree) if isinstance(n, (ast.Module, ast.FunctionDef,
                ast.ClassDef)) and n.body and isinstance(n.body[0], ast.Expr)}  # for developers, not users
        found += [f"{path.relative_to(ROOT)}:{n.lineno}: {m.group(0)}" for n in ast.walk(tree)
                  if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs
                  for m in fixed.finditer(n.value)]
    assert not found, found


def test_lime_words_the_thesis_finding_as_the_thesis_and_checks_it_on_this_scan():
    from xai_core.metrics.stability import SAMPLES_LABEL

    at = AppTest.from_file(str(ROOT / "pages/lime_segmenters.py"), default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    samples = _labelled(at.slider, SAMPLES_LABEL)
    assert "ms here" in samples.help and "2-core" not in samples.help, samples.help  # timed, not promised
    text = " ".join(m.value for m in at.markdown)
    assert "unusable explanations" not in text and "The source thesis's finding" in text
    check = next(c.value for c in at.caption if c.value.startswith("On this scan the thesis's finding"))
    table = at.dataframe[0].value
    if (table["fit R²"] >= 0.3).all() and (table["largest share"] <= 0.5).all():
        assert "does **not** show" in check, check
    else:
        assert "shows for" in check, check
