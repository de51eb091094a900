"""The data files: every figure has a unit, a source that exists, and a value inside its range."""

import numpy as np
import pytest
import yaml

from gmsim import codes
from gmsim.parameters import ParameterError, ParameterSet, calibrated_values, default_parameters, read_data

SOURCES = {e["id"] for e in read_data("sources.yaml")}


def _sources_in(node):
    if isinstance(node, dict):
        if "source" in node:
            yield node["source"]
        for v in node.values():
            yield from _sources_in(v)


DATA_FILES = [
    "parameters.yaml",
    "population.yaml",
    "targets.yaml",
    "checks.yaml",
    "economies.yaml",
    "commuting.yaml",
    "sectors.yaml",
] + [f"interventions/{n}.yaml" for n in ("care_and_support", "work_and_health", "early_help", "in_work")]


@pytest.mark.parametrize("filename", DATA_FILES)
def test_every_source_is_an_evidence_id_or_an_assumption_with_a_note(filename):
    data = read_data(filename)
    for src in _sources_in(data):
        assert src == "assumption" or src in SOURCES, f"{filename}: unknown source {src!r}"


def test_assumptions_say_why():
    def walk(node, path=""):
        if isinstance(node, dict):
            if node.get("source") == "assumption":
                assert node.get("note"), f"{path}: an assumption without a note"
            for k, v in node.items():
                walk(v, f"{path}.{k}")

    for filename in DATA_FILES:
        walk(read_data(filename))


def test_sources_match_the_shared_evidence_file():
    from pathlib import Path

    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "evidence.yaml"
    if not shared.exists():
        pytest.skip("shared/data is not beside this checkout")
    evidence = {e["id"]: e for e in yaml.safe_load(shared.read_text())}
    for e in read_data("sources.yaml"):
        if "collected_by" in e:  # found after the shared file was compiled: must say where and how sure
            assert e["id"] not in evidence and e["source_url"].startswith("http") and e["confidence"], e["id"]
            continue
        assert e["id"] in evidence
        assert e["source_url"] == evidence[e["id"]]["source_url"]
        assert e["value"] == evidence[e["id"]]["value"]


def test_parameters_have_units_and_values_inside_their_ranges():
    for name, p in default_parameters().items():
        assert p.unit, name
        if p.low is not None:
            assert p.low <= p.value <= p.high, name


def test_every_transition_and_dimension_is_present():
    names = set(default_parameters())
    for t in codes.TRANSITIONS:
        assert f"{t}.base" in names
        for dim, levels in codes.DIMENSIONS.items():
            for level in levels:
                assert f"{t}.{dim}.{level}" in names


def test_calibrated_values_name_real_parameters_and_are_valid():
    cal = calibrated_values()
    assert cal, "gmsim/data/calibrated.yaml is missing: run python -m gmsim.calibrate"
    assert set(cal) <= set(default_parameters())
    ParameterSet(cal, calibrated=False)


def test_overrides_are_validated_with_suggestions():
    with pytest.raises(ParameterError) as err:
        ParameterSet(
            {"in_work_to_at_risk.bsae": 0.1, "benefits.reassessment_rate": -1, "demography.mortality.16-24": 2}
        )
    problems = dict(err.value.problems)
    assert "did you mean 'in_work_to_at_risk.base'" in problems["in_work_to_at_risk.bsae"]
    assert ">= 0" in problems["benefits.reassessment_rate"]
    assert "probability" in problems["demography.mortality.16-24"]
    ps = ParameterSet({"in_work_to_at_risk.base": 0.02})
    assert ps.value("in_work_to_at_risk.base") == 0.02
    assert "in_work_to_at_risk.base" in ps.changed()


def test_monthly_mortality_converts_annual_probabilities():
    t = ParameterSet().hazard_tables()
    annual = np.array([ParameterSet().value(f"demography.mortality.{b}") for b in codes.AGE_BANDS])
    assert np.allclose(1 - (1 - t.monthly_mortality) ** 12, annual)


def test_population_data_add_up():
    pop = read_data("population.yaml")
    assert sum(pop["skills"]["value"].values()) == pytest.approx(1)
    for band in codes.AGE_BANDS:
        assert sum(pop["health"]["value"][band].values()) == pytest.approx(1)
    for group in pop["initial_state"]["value"].values():
        assert sum(group.values()) == pytest.approx(1, abs=1e-3)
    shares = [e["employment_share"] for e in pop["employers"]["value"].values()]
    assert sum(shares) == pytest.approx(1)


def test_the_parameter_table_in_the_model_description_is_the_data_files():
    """docs/model.md section 8.1 lists parameters.yaml and calibrated.yaml as they are (parameter_table())."""
    from pathlib import Path

    from gmsim.parameters import parameter_table

    doc = (Path(__file__).resolve().parents[1] / "docs" / "model.md").read_text()
    section = doc.split("### 8.1 Monthly dynamics", 1)[1].split("\n### ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    assert rows == parameter_table(), "regenerate the table with gmsim.parameters.parameter_table()"


def test_the_effect_prior_table_in_the_model_description_is_the_data_files():
    """docs/model.md section 8.4 lists every strand's effect priors as they are (effect_prior_table())."""
    from pathlib import Path

    from gmsim.interventions.intervention import effect_prior_table

    doc = (Path(__file__).resolve().parents[1] / "docs" / "model.md").read_text()
    section = doc.split("### 8.4 Effect priors", 1)[1].split("\n#", 1)[0]
    table = section[section.index("| strand | ratio |") :].split("\n\n", 1)[0]
    assert table.splitlines() == effect_prior_table(), "regenerate the table with effect_prior_table()"


def test_every_effect_says_how_its_evidence_was_translated_and_how_well_it_transfers():
    from gmsim.interventions import registered

    for name in ("care_and_support", "work_and_health", "early_help", "in_work"):
        params = registered()[name].default_params()
        for group in ("effects", "after_effects", "in_work_effects"):
            for t, e in getattr(params, group).items():
                assert e.translation and e.low is not None, (name, group, t)
                assert (e.transferability == "none") == (e.source == "assumption"), (name, group, t)
                # Where the evidence includes null results, or there is none, the prior allows no effect.
                if e.transferability in ("none", "low"):
                    assert e.low < 1 < e.high, (name, group, t)
