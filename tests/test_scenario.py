"""Tests for gmsim.scenario: the scenario schema, YAML loading and error reporting."""

from __future__ import annotations

import json
import math
import os
import string
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gmsim.scenario import PopulationSpec, Scenario, ScenarioError, StrandSpec, load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
SCALE_RANGE = "expected a number from 0.001 (1,781 people, the fewest that can stand for ten boroughs) to 10"
BUDGET_RANGE = "expected a number of GBP from 0 to 10,000,000,000 (more than 10 billion a year is a typing error)"
UNIT_COST_RANGE = (
    "expected a number of GBP from 1 to 1,000,000 (a start costing under GBP 1 would fund places without limit)"
)


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.path == str(path)
    assert info.value.problems, "a ScenarioError must list at least one problem"
    return info.value.problems


def only_problem(tmp_path: Path, text: str) -> tuple[str, str]:
    problems = problems_of(tmp_path, text)
    assert len(problems) == 1, problems
    return problems[0]


# ---------------------------------------------------------------------------- valid scenarios


def test_baseline_file_loads_with_documented_values():
    s = load_scenario(BASELINE)
    assert s.name == "baseline"
    assert s.seed == 1
    assert s.months == 120
    assert s.population == PopulationSpec(scale=1.0, history_sample=1000)
    assert s.parameters == {}
    assert "Greater Manchester" in s.description
    assert "1,781,000" in s.description
    assert "Working Well" in s.description


def test_baseline_file_equals_defaults_apart_from_description():
    s = load_scenario(str(BASELINE))  # str paths work too
    assert s.model_copy(update={"description": ""}) == Scenario.default()


def test_defaults():
    s = Scenario.default()
    assert (s.name, s.description, s.seed, s.months) == ("baseline", "", 1, 120)
    assert s.population.scale == 1.0
    assert s.population.history_sample == 1000
    assert s.parameters == {}
    assert Scenario.from_dict({"name": "x"}).model_copy(update={"name": "baseline"}) == s


def test_minimal_file_only_needs_a_name(tmp_path):
    s = load_scenario(write(tmp_path, "name: quick-run_2.b\n"))
    assert s.name == "quick-run_2.b"
    assert s.months == 120


def test_full_file_with_parameter_overrides(tmp_path):
    text = """
    name: faster_job_entry
    description: More job entry
    seed: 7
    months: 24
    population: {scale: 0.05, history_sample: 0}
    parameters:
      out_of_work_to_in_work.base: 0.15
      in_work_to_at_risk.severity.complex: 3
      demography.mortality.50-64: 0.005
    """
    s = load_scenario(write(tmp_path, text.replace("\n    ", "\n")))
    assert s.seed == 7 and s.months == 24
    assert s.population.scale == 0.05 and s.population.history_sample == 0
    assert s.parameters == {
        "out_of_work_to_in_work.base": 0.15,
        "in_work_to_at_risk.severity.complex": 3.0,
        "demography.mortality.50-64": 0.005,
    }
    ps = s.parameter_set()
    assert ps.value("out_of_work_to_in_work.base") == 0.15
    assert ps.value("in_work_to_at_risk.severity.complex") == 3.0


def test_integer_scale_is_accepted_and_stored_as_float(tmp_path):
    s = load_scenario(write(tmp_path, "name: a\npopulation: {scale: 2}\n"))
    assert s.population.scale == 2.0 and isinstance(s.population.scale, float)


def test_empty_blocks_mean_defaults(tmp_path):
    s = load_scenario(write(tmp_path, "name: a\npopulation:\nparameters:\n"))
    assert s.population == PopulationSpec()
    assert s.parameters == {}


def test_utf8_bom_and_unicode_description(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffname: a\ndescription: Café — Wigan\n".encode())
    assert load_scenario(path).description == "Café — Wigan"


def test_to_dict_is_json_and_round_trips_through_yaml(tmp_path):
    s = Scenario.from_dict(
        {"name": "rt", "description": "x: y", "seed": 3, "parameters": {"benefits.reassessment_rate": 0.02}}
    )
    d = s.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert set(d) == {
        "name",
        "description",
        "seed",
        "start",
        "months",
        "population",
        "economy",
        "parameters",
        "modules",
        "strands",
    }
    assert load_scenario(write(tmp_path, s.to_yaml())) == s
    assert Scenario.from_dict(d) == s


# ---------------------------------------------------------------------------- file-level problems


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems == [("", "no such file")]
    assert str(info.value) == f"{path}: no such file"


def test_directory(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path)
    assert len(info.value.problems) == 1
    assert "directory" in str(info.value)


def test_malformed_yaml_reports_line_and_column(tmp_path):
    key, message = only_problem(tmp_path, "name: a\nseed: 1\nmonths: [12\n")
    assert key == ""
    assert "malformed YAML" in message
    assert "line 4" in message  # end of stream, after the unclosed list opened on line 3


def test_malformed_indentation_reports_its_line(tmp_path):
    _, message = only_problem(tmp_path, "name: a\nseed: 1\n  months: 3\n")
    assert "malformed YAML at line 3" in message


def test_python_tags_are_refused(tmp_path):
    _, message = only_problem(tmp_path, "name: !!python/object/apply:os.system ['echo hi']\n")
    assert "malformed YAML at line 1" in message
    assert "python/object" in message


def test_non_utf8_bytes(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: a\ndescription: caf\xe9\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    [(key, message)] = info.value.problems
    assert "UTF-8" in message and "line 2" in message


def test_control_character(tmp_path):
    _, message = only_problem(tmp_path, "name: a\ndescription: x\x00y\n")
    assert "line 2" in message


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file(tmp_path, text):
    _, message = only_problem(tmp_path, text)
    assert "empty" in message


@pytest.mark.parametrize(("text", "shown"), [("- a\n- b\n", "a list"), ("just text\n", "'just text'"), ("42\n", "42")])
def test_top_level_not_a_mapping(tmp_path, text, shown):
    _, message = only_problem(tmp_path, text)
    assert "expected a mapping" in message and shown in message


def test_from_dict_rejects_non_mapping():
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(["name", "a"])  # type: ignore[arg-type]
    assert info.value.path is None
    assert "got a list" in str(info.value)


# ---------------------------------------------------------------------------- key and value problems


def test_unknown_top_level_key_with_suggestion(tmp_path):
    problem = only_problem(tmp_path, "name: a\nsede: 3\n")
    assert problem == ("sede", "unknown key 'sede' (did you mean 'seed'?)")


def test_unknown_key_without_close_match_lists_valid_keys(tmp_path):
    key, message = only_problem(tmp_path, "name: a\nzzz: 3\n")
    assert key == "zzz"
    assert "unknown key 'zzz'" in message and "history_sample" not in message and "months" in message


def test_unknown_nested_key(tmp_path):
    key, message = only_problem(tmp_path, "name: a\npopulation:\n  scael: 0.5\n")
    assert key == "population.scael"
    assert message == "unknown key 'scael' (did you mean 'scale'?)"


def test_non_string_key(tmp_path):
    key, message = only_problem(tmp_path, "name: a\n3: x\n")
    assert key == "3" and "keys must be text" in message


def test_missing_name(tmp_path):
    key, message = only_problem(tmp_path, "seed: 1\n")
    assert key == "name" and "missing" in message


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        (
            "name: a\npopulation: {scale: -1}\n",
            "population.scale",
            SCALE_RANGE + ", got -1",
        ),
        ("name: a\npopulation:\n  scale: 0\n", "population.scale", "got 0"),
        ("name: a\npopulation:\n  scale: 10.5\n", "population.scale", "got 10.5"),
        ("name: a\npopulation:\n  scale: .nan\n", "population.scale", "got nan"),
        ("name: a\npopulation:\n  scale: .inf\n", "population.scale", "got inf"),
        ("name: a\npopulation:\n  scale: '0.5'\n", "population.scale", "got '0.5'"),
        ("name: a\npopulation:\n  history_sample: -5\n", "population.history_sample", "got -5"),
        ("name: a\npopulation: [1, 2]\n", "population", "got a list"),
        ("name: a\nmonths: 0\n", "months", "from 1 to 1200, got 0"),
        ("name: a\nmonths: 1201\n", "months", "got 1201"),
        ("name: a\nmonths: 12.5\n", "months", "got 12.5"),
        ("name: a\nmonths: twelve\n", "months", "got 'twelve'"),
        ("name: a\nseed: -1\n", "seed", "expected a whole number >= 0, got -1"),
        ("name: a\nseed: 1.0e+400\n", "seed", "got inf"),
        ("name: a\nseed: 99999999999999999999999999999999999999\n", "seed", "got 9999"),
        ("name: a\nseed:\n", "seed", "got nothing (null)"),
        ("name: a b\n", "name", "got 'a b'"),
        ("name: ../etc\n", "name", "starting with a letter or digit"),
        ("name: 2024\n", "name", "put it in quotes"),
        ("name: a\ndescription: [x]\n", "description", "expected text of at most 10,000 characters, got a list"),
        ("name: a\nparameters: [1]\n", "parameters", "expected a mapping of parameter names to numbers"),
    ],
)
def test_wrong_type_or_out_of_range(tmp_path, text, key, fragment):
    got_key, message = only_problem(tmp_path, text)
    assert got_key == key
    assert fragment in message, message
    assert message.startswith("expected ")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("name: a\nseed: true\n", "seed"),
        ("name: a\nmonths: yes\n", "months"),
        ("name: a\npopulation: {history_sample: false}\n", "population.history_sample"),
        ("name: a\npopulation: {scale: true}\n", "population.scale"),
        ("name: a\nparameters: {benefits.reassessment_rate: true}\n", "parameters.benefits.reassessment_rate"),
    ],
)
def test_booleans_are_not_numbers(tmp_path, text, key):
    got_key, message = only_problem(tmp_path, text)
    assert got_key == key
    assert message.startswith("expected")
    assert "(a true/false value)" in message


def test_unknown_parameter_with_suggestion(tmp_path):
    key, message = only_problem(tmp_path, "name: a\nparameters:\n  out_of_work_to_in_work.bse: 0.1\n")
    assert key == "parameters.out_of_work_to_in_work.bse"
    assert "unknown parameter" in message
    assert "(did you mean 'out_of_work_to_in_work.base'?)" in message


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("benefits.reassessment_rate", "-0.1", ">= 0"),
        ("demography.mortality.16-24", "1.5", "probability"),
        ("out_of_work_to_in_work.base", ".nan", "finite"),
        ("out_of_work_to_in_work.base", "fast", "expected a number"),
        ("out_of_work_to_in_work.base", "[0.1]", "expected a number, got a list"),
        ("out_of_work_to_in_work.base", "1" + "0" * 400, "expected a number"),
    ],
)
def test_invalid_parameter_value(tmp_path, name, value, fragment):
    key, message = only_problem(tmp_path, f"name: a\nparameters:\n  {name}: {value}\n")
    assert key == f"parameters.{name}"
    assert fragment in message, message


def test_nested_parameter_block_gets_a_hint(tmp_path):
    key, message = only_problem(tmp_path, "name: a\nparameters:\n  out_of_work_to_in_work:\n    base: 0.2\n")
    assert key == "parameters.out_of_work_to_in_work"
    assert "'out_of_work_to_in_work.base'" in message


def test_all_problems_reported_together(tmp_path):
    text = (
        "name: bad name\n"
        "sede: 2\n"
        "months: 0\n"
        "population:\n"
        "  scale: -1\n"
        "  histroy_sample: 10\n"
        "parameters:\n"
        "  out_of_work_to_in_work.bse: 0.1\n"
        "  benefits.reassessment_rate: -3\n"
        "  in_work_to_at_risk.base: abc\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    keys = [k for k, _ in info.value.problems]
    assert keys == [  # every problem, in the order of the file
        "name",
        "sede",
        "months",
        "population.scale",
        "population.histroy_sample",
        "parameters.out_of_work_to_in_work.bse",
        "parameters.benefits.reassessment_rate",
        "parameters.in_work_to_at_risk.base",
    ]
    lines = str(info.value).splitlines()
    assert len(lines) == 8
    assert all(line.startswith(f"{path}: ") for line in lines)
    assert f"{path}: population.scale: {SCALE_RANGE}, got -1" in lines
    assert f"{path}: sede: unknown key 'sede' (did you mean 'seed'?)" in lines
    assert any("did you mean 'history_sample'" in line for line in lines)


def test_from_dict_reports_like_the_loader():
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict({"name": "a", "months": -1, "parameters": {"nope": 1}}, path="x.yaml")
    assert info.value.path == "x.yaml"
    assert [k for k, _ in info.value.problems] == ["months", "parameters.nope"]
    assert str(info.value).splitlines()[0].startswith("x.yaml: months: expected")


def test_error_without_path_omits_it():
    err = ScenarioError([("seed", "bad"), ("", "whole thing")])
    assert str(err) == "seed: bad\nwhole thing"


# ---------------------------------------------------------------------------- hashing and overrides


def test_content_hash_equal_for_equal_content(tmp_path):
    a = load_scenario(write(tmp_path, "name: a\nseed: 2\npopulation: {scale: 1}\n", "a.yaml"))
    b = load_scenario(
        write(
            tmp_path,
            "# same content, other layout\npopulation:\n  scale: 1.0\nseed: 2\nname: a\nmonths: 120\n",
            "b.yaml",
        )
    )
    assert a.content_hash() == b.content_hash()
    assert len(a.content_hash()) == 64 and all(c in string.hexdigits for c in a.content_hash())
    assert Scenario.default().content_hash() == Scenario.default().content_hash()


def test_parameter_order_does_not_change_the_hash():
    p = {"benefits.reassessment_rate": 0.02, "out_of_work_to_in_work.base": 0.15}
    a = Scenario.from_dict({"name": "a", "parameters": p})
    b = Scenario.from_dict({"name": "a", "parameters": dict(reversed(list(p.items())))})
    assert a.content_hash() == b.content_hash()


@pytest.mark.parametrize(
    "change",
    [
        {"name": "other"},
        {"description": "x"},
        {"seed": 2},
        {"months": 119},
        {"population": {"scale": 0.5}},
        {"population": {"history_sample": 999}},
        {"parameters": {"out_of_work_to_in_work.base": 0.15}},
    ],
)
def test_content_hash_changes_with_any_change(change):
    base = Scenario.default()
    changed = Scenario.from_dict({**base.to_dict(), **change})
    assert changed != base
    assert changed.content_hash() != base.content_hash()


def test_with_overrides_replaces_values_and_keeps_the_rest():
    s = Scenario.from_dict({"name": "a", "parameters": {"out_of_work_to_in_work.base": 0.15}})
    t = s.with_overrides(seed=9, months=12, scale=0.01)
    assert (t.seed, t.months, t.population.scale) == (9, 12, 0.01)
    assert t.population.history_sample == s.population.history_sample
    assert t.parameters == s.parameters and t.name == s.name
    assert s.seed == 1 and s.months == 120  # original untouched
    assert s.with_overrides() == s
    assert s.with_overrides(seed=0).seed == 0


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"seed": -1}, "seed"),
        ({"months": 0}, "months"),
        ({"months": 5000}, "months"),
        ({"scale": 0.0}, "population.scale"),
        ({"scale": 11.0}, "population.scale"),
        ({"scale": math.nan}, "population.scale"),
        ({"seed": True}, "seed"),
    ],
)
def test_with_overrides_validates(kwargs, key):
    with pytest.raises(ScenarioError) as info:
        Scenario.default().with_overrides(**kwargs)
    assert info.value.path == "command line"
    assert [k for k, _ in info.value.problems] == [key]
    assert str(info.value).startswith(f"command line: {key}: expected")


def test_with_overrides_reports_every_bad_value():
    with pytest.raises(ScenarioError) as info:
        Scenario.default().with_overrides(seed=-1, months=0, scale=-2)
    assert [k for k, _ in info.value.problems] == ["seed", "months", "population.scale"]


def test_parameter_set_applies_overrides():
    s = Scenario.from_dict({"name": "a", "parameters": {"benefits.reassessment_rate": 0.05}})
    assert s.parameter_set().value("benefits.reassessment_rate") == 0.05
    assert "benefits.reassessment_rate" not in Scenario.default().parameter_set().changed()


def test_schema_fields_are_documented():
    for model in (Scenario, PopulationSpec):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"


# ---------------------------------------------------------------------------- strands

STRAND_NAMES = ("care_and_support", "work_and_health", "early_help", "in_work")


def test_strands_block_parses_and_round_trips(tmp_path):
    text = """
    name: pilot
    strands:
      work_and_health:
        budget_gbp_per_year: 4500000
        unit_cost_gbp: 1681
        start_month: 1
        end_month: 24
        parameters:
          effects.out_of_work_to_in_work: 1.5
          routes.jobcentre.rate: 0.0035
          support_months: 24
          max_referrals: 5000
          eligibility.benefits: [limited_capability]
      early_help: {budget_gbp_per_year: 3000000}
      in_work:
    """
    s = load_scenario(write(tmp_path, text.replace("\n    ", "\n")))
    assert list(s.strands) == ["work_and_health", "early_help", "in_work"]  # file order is kept
    wh = s.strands["work_and_health"]
    assert isinstance(wh, StrandSpec)
    assert (wh.budget_gbp_per_year, wh.unit_cost_gbp, wh.start_month, wh.end_month) == (4.5e6, 1681.0, 1, 24)
    assert wh.parameters["effects.out_of_work_to_in_work"] == 1.5
    assert wh.parameters["eligibility.benefits"] == ["limited_capability"]
    assert s.strands["early_help"] == StrandSpec(budget_gbp_per_year=3e6)
    assert s.strands["in_work"] == StrandSpec()  # nothing under it: every setting at its default
    d = s.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["strands"]["early_help"] == {
        "budget_gbp_per_year": 3e6,
        "unit_cost_gbp": None,
        "budget_by_financial_year": {},
        "start_month": 1,
        "end_month": None,
        "parameters": {},
    }
    assert load_scenario(write(tmp_path, s.to_yaml(), "rt.yaml")) == s
    assert Scenario.from_dict(d).content_hash() == s.content_hash()
    assert s.with_overrides(seed=4).strands == s.strands


def test_strands_change_the_hash_and_equal_numbers_hash_alike():
    base = Scenario.from_dict({"name": "a"})
    funded = Scenario.from_dict({"name": "a", "strands": {"early_help": {"budget_gbp_per_year": 1}}})
    assert base.content_hash() != funded.content_hash()
    ints = Scenario.from_dict(
        {
            "name": "a",
            "strands": {"early_help": {"parameters": {"effects.out_of_work_to_in_work": 2, "support_months": 6.0}}},
        }
    )
    floats = Scenario.from_dict(
        {
            "name": "a",
            "strands": {"early_help": {"parameters": {"effects.out_of_work_to_in_work": 2.0, "support_months": 6}}},
        }
    )
    assert ints.content_hash() == floats.content_hash()


def test_the_four_strands_can_be_named():
    s = Scenario.from_dict({"name": "a", "strands": {n: {"budget_gbp_per_year": 0} for n in STRAND_NAMES}})
    assert set(s.strands) == set(STRAND_NAMES)


def test_unknown_strand_with_suggestion(tmp_path):
    problem = only_problem(tmp_path, "name: a\nstrands:\n  work_and_heath: {budget_gbp_per_year: 100}\n")
    assert problem == ("strands.work_and_heath", "unknown strand 'work_and_heath' (did you mean 'work_and_health'?)")


def test_unknown_strand_without_close_match_lists_the_strands(tmp_path):
    key, message = only_problem(tmp_path, "name: a\nstrands:\n  zzz:\n")
    assert key == "strands.zzz"
    assert all(name in message for name in STRAND_NAMES)


def test_negative_budget(tmp_path):
    problem = only_problem(tmp_path, "name: a\nstrands:\n  early_help: {budget_gbp_per_year: -5}\n")
    assert problem == (
        "strands.early_help.budget_gbp_per_year",
        BUDGET_RANGE + ", got -5",
    )


@pytest.mark.parametrize("value", ["0", "-1", "'100'", "true"])
def test_unit_cost_must_be_positive(tmp_path, value):
    key, message = only_problem(tmp_path, f"name: a\nstrands:\n  early_help: {{unit_cost_gbp: {value}}}\n")
    assert key == "strands.early_help.unit_cost_gbp"
    assert message.startswith(UNIT_COST_RANGE + ", got ")


def test_start_after_end(tmp_path):
    problem = only_problem(tmp_path, "name: a\nstrands:\n  in_work: {start_month: 13, end_month: 12}\n")
    assert problem == ("strands.in_work", "start_month (13) must not be after end_month (12)")


def test_strand_months_may_go_beyond_the_run():
    s = Scenario.from_dict({"name": "a", "months": 12, "strands": {"in_work": {"start_month": 100, "end_month": 1200}}})
    assert s.strands["in_work"].start_month == 100


@pytest.mark.parametrize(
    ("setting", "fragment"),
    [
        ("start_month: 0", "expected a month from 1 to 1200, got 0"),
        ("end_month: 1201", "expected a month from 1 to 1200, got 1201"),
        ("start_month: 1.5", "got 1.5"),
        ("budgt: 3", "unknown key 'budgt' (did you mean 'budget_gbp_per_year'?)"),
    ],
)
def test_invalid_strand_settings(tmp_path, setting, fragment):
    key, message = only_problem(tmp_path, f"name: a\nstrands:\n  in_work: {{{setting}}}\n")
    assert key == f"strands.in_work.{setting.split(':')[0]}"
    assert fragment in message, message


def test_unknown_strand_parameter_with_suggestion(tmp_path):
    text = "name: a\nstrands:\n  work_and_health:\n    parameters:\n      effects.out_of_work_to_in_wrk: 1.2\n"
    key, message = only_problem(tmp_path, text)
    assert key == "strands.work_and_health.parameters.effects.out_of_work_to_in_wrk"
    assert "unknown parameter" in message
    assert "(did you mean 'effects.out_of_work_to_in_work'?)" in message


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("effects.out_of_work_to_in_work", "0", "hazard ratio > 0"),
        ("effects.out_of_work_to_in_work", "-1.5", "hazard ratio > 0"),
        ("effects.out_of_work_to_in_work", "fast", "expected a number"),
        ("effects.out_of_work_to_in_work", ".nan", "expected a number"),
        ("effects.out_of_work_to_in_work", "1" + "0" * 400, "expected a number"),
        ("effects.out_of_work_to_in_work", "2020-01-01", "(a date)"),
        ("routes.jobcentre.take_up", "1.5", "share between 0 and 1"),
        ("routes.jobcentre.rate", "-0.1", "from 0 to 5 a month"),
        ("routes.jobcentre.rate", "7", "from 0 to 5 a month"),
        ("support_months", "5000", "at most 1200 months"),
        ("effects.out_of_work_to_in_work", "1.0e+6", "at most 1000"),
        ("max_referrals", "1.0e+12", "from 0 to 100,000,000"),
        ("support_months", "2.5", "whole number of months"),
        (
            "unit_cost_gbp",
            "0",
            UNIT_COST_RANGE + ", got 0",
        ),
        ("eligibility.benefits", "jobseeker", "expected a list"),
        ("eligibility.benefits", "[limited_capabilty]", "did you mean 'limited_capability'?"),
        ("eligibility.benefits", "[3]", "expected a list of names"),
        ("effects", "{out_of_work_to_in_work: 2}", "'effects.out_of_work_to_in_work'"),
    ],
)
def test_invalid_strand_parameter(tmp_path, name, value, fragment):
    text = f"name: a\nstrands:\n  work_and_health:\n    parameters:\n      {name}: {value}\n"
    key, message = only_problem(tmp_path, text)
    assert key == f"strands.work_and_health.parameters.{name}"
    assert fragment in message, message


def test_hazard_ratio_zero_rejected():
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict({"name": "a", "strands": {"early_help": {"parameters": {"effects.at_risk_to_in_work": 0}}}})
    assert info.value.problems == [
        (
            "strands.early_help.parameters.effects.at_risk_to_in_work",
            "expected a hazard ratio > 0 and at most 1000 (beyond that the move is certain), got 0",
        )
    ]


@pytest.mark.parametrize(
    ("block", "key", "fragment"),
    [
        ("strands: [work_and_health]", "strands", "expected a mapping of strand names to their settings, got a list"),
        ("strands:\n  work_and_health: 6000000", "strands.work_and_health", "expected a mapping of strand settings"),
        ("strands:\n  3: {}", "strands.3", "strand names must be text"),
        (
            "strands:\n  work_and_health: {parameters: [1]}",
            "strands.work_and_health.parameters",
            "expected a mapping of parameter names to values, got a list",
        ),
    ],
)
def test_strands_of_the_wrong_shape(tmp_path, block, key, fragment):
    got_key, message = only_problem(tmp_path, f"name: a\n{block}\n")
    assert got_key == key
    assert fragment in message, message


def test_several_strand_errors_reported_together(tmp_path):
    text = (
        "name: a\n"
        "months: 0\n"
        "strands:\n"
        "  work_and_heath: {budget_gbp_per_year: 1}\n"
        "  work_and_health:\n"
        "    budget_gbp_per_year: -1\n"
        "    unit_cost_gbp: 0\n"
        "    parameters:\n"
        "      effects.out_of_work_to_in_wrk: 1.2\n"
        "      effects.health_recovery: 0\n"
        "  early_help: {start_month: 7, end_month: 6}\n"
        "parameters: {nope: 1}\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert [k for k, _ in info.value.problems] == [
        "months",
        "strands.work_and_heath",
        "strands.work_and_health.budget_gbp_per_year",
        "strands.work_and_health.unit_cost_gbp",
        "strands.work_and_health.parameters.effects.out_of_work_to_in_wrk",
        "strands.work_and_health.parameters.effects.health_recovery",
        "strands.early_help",
        "parameters.nope",
    ]
    lines = str(info.value).splitlines()
    assert len(lines) == 8 and all(line.startswith(f"{path}: ") for line in lines)
    assert f"{path}: strands.work_and_health.budget_gbp_per_year: {BUDGET_RANGE}, got -1" in lines


def test_strand_fields_are_documented():
    for name, field in StrandSpec.model_fields.items():
        assert field.description, f"StrandSpec.{name} has no description"


# ---------------------------------------------------------------------------- extends


def test_extends_merges_a_two_level_chain(tmp_path):
    write(
        tmp_path,
        """
name: grandparent
description: the root
seed: 5
months: 60
population: {scale: 0.5, history_sample: 10}
parameters: {out_of_work_to_in_work.base: 0.15, benefits.reassessment_rate: 0.02}
strands:
  work_and_health:
    budget_gbp_per_year: 1000
    end_month: 24
    parameters: {support_months: 24, max_referrals: 5000}
  early_help: {budget_gbp_per_year: 10}
""",
        "grandparent.yaml",
    )
    (tmp_path / "sub").mkdir()
    write(
        tmp_path / "sub",
        "extends: ../grandparent.yaml\nname: parent\nmonths: 36\npopulation: {history_sample: 20}\n",
        "parent.yaml",
    )
    child = write(
        tmp_path,
        """
extends: sub/parent.yaml
name: child
parameters: {benefits.reassessment_rate: 0.03}
strands:
  work_and_health:
    budget_gbp_per_year: 2000
    parameters: {support_months: 12}
  in_work: {budget_gbp_per_year: 5}
""",
        "child.yaml",
    )
    s = load_scenario(child)
    assert (s.name, s.description, s.seed, s.months) == ("child", "the root", 5, 36)
    assert s.population == PopulationSpec(scale=0.5, history_sample=20)
    assert s.parameters == {"out_of_work_to_in_work.base": 0.15, "benefits.reassessment_rate": 0.03}
    assert list(s.strands) == ["work_and_health", "early_help", "in_work"]
    wh = s.strands["work_and_health"]
    assert (wh.budget_gbp_per_year, wh.end_month) == (2000.0, 24)
    assert wh.parameters == {"support_months": 12, "max_referrals": 5000}
    assert s.strands["early_help"].budget_gbp_per_year == 10
    d = s.to_dict()
    assert "extends" not in d  # fully resolved
    assert load_scenario(write(tmp_path, s.to_yaml(), "resolved.yaml")) == s


def test_extends_from_dict_resolves_against_the_current_directory(tmp_path, monkeypatch):
    write(tmp_path, "name: base\nmonths: 12\n", "base.yaml")
    monkeypatch.chdir(tmp_path)
    s = Scenario.from_dict({"extends": "base.yaml", "name": "x"})
    assert (s.name, s.months) == ("x", 12)
    assert Scenario.from_dict({"extends": str(tmp_path / "base.yaml")}).name == "base"  # absolute; name inherited


def test_empty_extends_means_none(tmp_path):
    assert load_scenario(write(tmp_path, "name: a\nextends:\n")) == Scenario.from_dict({"name": "a"})


def test_extends_null_block_keeps_the_parents(tmp_path):
    write(tmp_path, "name: base\nparameters: {benefits.reassessment_rate: 0.02}\n", "base.yaml")
    s = load_scenario(write(tmp_path, "extends: base.yaml\nname: c\nparameters:\n"))
    assert s.parameters == {"benefits.reassessment_rate": 0.02}


def test_extends_missing_file(tmp_path):
    path = write(tmp_path, "extends: x.yaml\nname: c\n", "child.yaml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path}: extends: no such file 'x.yaml' (looked in {tmp_path})"


def test_extends_cycle(tmp_path):
    a = write(tmp_path, "extends: b.yaml\nname: a\n", "a.yaml")
    b = write(tmp_path, "extends: a.yaml\nname: b\n", "b.yaml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(a)
    [(key, message)] = info.value.problems
    assert key == "extends" and info.value.files == [str(b)]
    assert message == (
        f"'a.yaml' closes a cycle: {a} -> {b} -> {a} (scenario files must not extend each other in a cycle)"
    )
    self_loop = write(tmp_path, "extends: self.yaml\nname: s\n", "self.yaml")
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(self_loop)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("3", "expected the path of a scenario file to extend (text), got 3"),
        ("[a.yaml]", "got a list"),
        ("''", "(blank text)"),
        (".", "is a directory"),
    ],
)
def test_extends_of_the_wrong_kind(tmp_path, value, fragment):
    key, message = only_problem(tmp_path, f"name: a\nextends: {value}\n")
    assert key == "extends"
    assert fragment in message, message


def test_errors_in_the_parent_are_reported_with_its_path(tmp_path):
    parent = write(tmp_path, "name: p\nmonths: 0\nstrands:\n  early_help: {budget_gbp_per_year: -1}\n", "parent.yaml")
    child = write(tmp_path, "extends: parent.yaml\nname: bad name\nseed: 2\n", "child.yaml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert info.value.path == str(child)
    assert str(info.value).splitlines() == [
        f"{child}: name: expected a name of letters, digits, '_', '.' or '-' starting with a letter or digit, "
        "got 'bad name'",
        f"{parent}: months: expected a whole number of months from 1 to 1200, got 0",
        f"{parent}: strands.early_help.budget_gbp_per_year: {BUDGET_RANGE}, got -1",
    ]
    assert info.value.files == [str(child), str(parent), str(parent)]


def test_unreadable_parent_is_reported_with_its_path(tmp_path):
    parent = write(tmp_path, "name: p\nmonths: [12\n", "parent.yaml")
    child = write(tmp_path, "extends: parent.yaml\nname: c\nsede: 1\n", "child.yaml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    lines = str(info.value).splitlines()
    assert lines[0] == f"{child}: sede: unknown key 'sede' (did you mean 'seed'?)"
    assert lines[1].startswith(f"{parent}: malformed YAML")


def test_merged_scenario_needs_a_name_and_is_checked_as_a_whole(tmp_path):
    write(tmp_path, "months: 12\nstrands:\n  in_work: {start_month: 10}\n", "parent.yaml")  # no name: fine
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, "extends: parent.yaml\nstrands:\n  in_work: {end_month: 5}\n", "c.yaml"))
    assert [k for k, _ in info.value.problems] == ["strands.in_work", "name"]  # missing keys last
    assert info.value.files == [str(tmp_path / "c.yaml")] * 2


def test_shipped_scenarios_load():
    from gmsim.comparison import load_mix

    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        if "total_budget_gbp_per_year" in path.read_text():  # a sweep file, not a scenario
            assert load_mix(path).name == path.stem
            continue
        s = load_scenario(path)
        assert s.name == path.stem
        assert all(spec.budget_gbp_per_year >= 0 for spec in s.strands.values())


# ---------------------------------------------------------------------------- modules

DUMMY_STRAND = """
import numpy as np

from gmsim.interventions import Intervention, register


@register
class DummyStrand(Intervention):
    name = "test_dummy_strand"
    title = "Test dummy"
    claims = ("out_of_work_to_in_work",)

    defaults = {
        "unit_cost_gbp": 100,
        "support_months": 3,
        "max_wait_months": 1,
        "routes": {"self": {"rate": 0.1, "take_up": 1.0}},
        "effects": {"out_of_work_to_in_work": {"value": 1.5}},
    }

    def eligible(self, people):
        return np.zeros(people.n, dtype=bool)
"""


@pytest.fixture
def dummy_strand(tmp_path):
    """A .py file registering the intervention 'test_dummy_strand', unregistered afterwards."""
    from gmsim.interventions import REGISTRY

    (tmp_path / "strands").mkdir()
    path = tmp_path / "strands" / "dummy.py"
    path.write_text(DUMMY_STRAND, encoding="utf-8")
    yield path
    REGISTRY.pop("test_dummy_strand", None)


def test_modules_import_a_py_file_that_registers_a_strand(tmp_path, monkeypatch, dummy_strand):
    from gmsim.interventions import registered

    text = (
        "name: mine\nmodules: [strands/dummy.py]\nstrands:\n  test_dummy_strand:\n"
        "    budget_gbp_per_year: 1200\n    parameters: {support_months: 6, effects.out_of_work_to_in_work: 2}\n"
    )
    path = write(tmp_path, text)
    monkeypatch.chdir(tmp_path / "strands")  # the path is relative to the scenario's folder, not here
    s = load_scenario(path)
    assert "test_dummy_strand" in registered()
    assert s.modules == [str(dummy_strand)]  # recorded as an absolute path, so that a rerun finds it
    assert s.strands["test_dummy_strand"].parameters == {"support_months": 6, "effects.out_of_work_to_in_work": 2.0}
    assert s.to_dict()["modules"] == [str(dummy_strand)]
    assert Scenario.from_dict(yaml.safe_load(s.to_yaml())) == s
    assert s.with_overrides(months=3).modules == s.modules
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(
            {
                "name": "a",
                "modules": [str(dummy_strand)],
                "strands": {
                    "test_dummy_strand": {"parameters": {"support_month": 1, "effects.out_of_work_to_in_work": 0}}
                },
            }
        )
    assert info.value.problems == [
        (
            "strands.test_dummy_strand.parameters.support_month",
            "unknown parameter of test_dummy_strand (did you mean 'support_months'?)",
        ),
        (
            "strands.test_dummy_strand.parameters.effects.out_of_work_to_in_work",
            "expected a hazard ratio > 0 and at most 1000 (beyond that the move is certain), got 0",
        ),
    ]


def test_without_its_module_a_strand_is_unknown(tmp_path):
    key, message = only_problem(tmp_path, "name: a\nstrands:\n  test_dummy_strand_never_registered:\n")
    assert "unknown strand" in message


def test_modules_by_dotted_name(tmp_path, monkeypatch, dummy_strand):
    package = tmp_path / "gmsim_test_pkg_7f3a"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "mine.py").write_text(DUMMY_STRAND, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    s = Scenario.from_dict(
        {
            "name": "a",
            "modules": ["gmsim_test_pkg_7f3a.mine"],
            "strands": {"test_dummy_strand": {"budget_gbp_per_year": 1}},
        }
    )
    assert s.modules == ["gmsim_test_pkg_7f3a.mine"]


def test_parent_modules_are_kept_by_the_child(tmp_path, dummy_strand):
    write(tmp_path, "name: p\nmodules: [strands/dummy.py]\nstrands:\n  test_dummy_strand:\n", "parent.yaml")
    (tmp_path / "other").mkdir()
    s = load_scenario(
        write(
            tmp_path / "other",
            "extends: ../parent.yaml\nname: c\nmodules: [json]\n"
            "strands:\n  test_dummy_strand: {budget_gbp_per_year: 5}\n",
        )
    )
    assert s.modules == [str(dummy_strand), "json"]
    assert s.strands["test_dummy_strand"].budget_gbp_per_year == 5


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ("gmsim_no_such_module_x", "cannot import 'gmsim_no_such_module_x' (ModuleNotFoundError: No module named"),
        ("missing.py", "no such file 'missing.py' (looked in "),
        ("3rd.party", "expected a Python module name (like my_package.my_strand) or the path of a .py file"),
        ("''", "(blank text)"),
        ("[json]", "got a list"),
    ],
)
def test_module_import_failure(tmp_path, entry, fragment):
    key, message = only_problem(tmp_path, f"name: a\nmodules: [{entry}]\n")
    assert key == "modules.0"
    assert fragment in message, message


def test_module_raising_on_import_is_reported(tmp_path):
    write(tmp_path, "raise RuntimeError('boom')\n", "broken.py")
    write(tmp_path, "import sys\nsys.exit(3)\n", "exits.py")
    problems = problems_of(tmp_path, "name: a\nmodules: [json, broken.py, exits.py]\n")
    assert problems == [
        ("modules.1", "cannot import 'broken.py' (RuntimeError: boom)"),
        ("modules.2", "cannot import 'exits.py' (SystemExit: 3)"),
    ]


def test_modules_must_be_a_list(tmp_path):
    key, message = only_problem(tmp_path, "name: a\nmodules: json\n")
    assert key == "modules"
    assert "expected a list" in message and "[my_package.my_strand]" in message


# ---------------------------------------------------------------------------- fuzzing

FIELDS = [
    "name",
    "description",
    "seed",
    "months",
    "population",
    "parameters",
    "scale",
    "history_sample",
    "out_of_work_to_in_work.base",
    "benefits.reassessment_rate",
    "demography.mortality.16-24",
    "extends",
    "modules",
    "strands",
    "work_and_health",
    "early_help",
    "budget_gbp_per_year",
    "unit_cost_gbp",
    "start_month",
    "end_month",
    "effects.out_of_work_to_in_work",
    "eligibility.benefits",
    "support_months",
    "fuzz.yaml",
    "s.yaml",
    "json",
    "x.py",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(FIELDS),
    st.dates(),
)
keys = st.one_of(
    st.sampled_from(FIELDS),
    st.text(max_size=12),
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.dates(),
)
structures = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)),
    max_leaves=20,
)
# Strand blocks: known and unknown names, settings and parameters with random values.
STRAND_PARAMETERS = [
    "effects.out_of_work_to_in_work",
    "eligibility.benefits",
    "support_months",
    "max_referrals",
    "routes.jobcentre.rate",
    "routes.gp.take_up",
    "unit_cost_gbp",
    "effects",
    "support_month",
]
strand_values = st.one_of(
    st.floats(min_value=-2, max_value=30),
    st.integers(-2, 30),
    structures,
    st.lists(st.sampled_from(["jobseeker", "limited_capability", "support_group", "x"])),
)
strand_parameters = st.one_of(
    st.dictionaries(st.sampled_from(STRAND_PARAMETERS), strand_values, min_size=1, max_size=4),
    st.dictionaries(keys, structures, max_size=3),
    structures,
)
strand_fields = {
    "budget_gbp_per_year": st.one_of(st.floats(min_value=-10, max_value=1e7), structures),
    "unit_cost_gbp": st.one_of(st.floats(min_value=-10, max_value=1e4), st.none(), structures),
    "start_month": st.one_of(st.integers(-2, 1300), structures),
    "end_month": st.one_of(st.integers(-2, 1300), structures),
}
strand_settings = st.one_of(
    st.fixed_dictionaries({}, optional={**strand_fields, "parameters": strand_parameters}),
    st.fixed_dictionaries({"parameters": strand_parameters}, optional=strand_fields),
)
strands = st.one_of(
    st.dictionaries(
        st.sampled_from(["work_and_health", "early_help", "in_work", "care_and_support", "work_and_heath"]),
        st.one_of(strand_settings, st.none()),
        min_size=1,
        max_size=3,
    ),
    st.dictionaries(keys, st.one_of(strand_settings, structures), max_size=3),
)
# Mostly-valid scenarios with random values in the right places, to reach the deeper checks.
shaped = st.fixed_dictionaries(
    {"name": st.one_of(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,10}", fullmatch=True), structures)},
    optional={
        "seed": structures,
        "months": structures,
        "description": structures,
        "population": st.one_of(
            st.fixed_dictionaries({}, optional={"scale": structures, "history_sample": structures}), structures
        ),
        "parameters": st.one_of(st.dictionaries(keys, structures, max_size=4), structures),
        "extends": structures,
        "modules": st.one_of(st.lists(structures, max_size=3), structures),
        "strands": st.one_of(strands, structures),
    },
)


def check_outcome(load) -> None:
    try:
        result = load()
    except ScenarioError as err:
        assert err.problems
        assert all(isinstance(k, str) and isinstance(m, str) and m for k, m in err.problems)
        assert not any("internal error" in m for _, m in err.problems), err.problems
        str(err)
    else:
        assert isinstance(result, Scenario)
        json.dumps(result.to_dict())
        assert Scenario.from_dict(yaml.safe_load(result.to_yaml())).content_hash() == result.content_hash()


@pytest.fixture
def no_imports(tmp_path, monkeypatch):
    """Fuzzed ``modules:`` must not import whatever modules their random names happen to name."""
    import gmsim.scenario

    def refuse(*args):
        raise ModuleNotFoundError("imports are switched off while fuzzing")

    monkeypatch.setattr(gmsim.scenario, "_import_named", refuse)
    monkeypatch.setattr(gmsim.scenario, "_import_file", refuse)
    monkeypatch.chdir(tmp_path)  # relative `extends:` and `modules:` paths stay in the test's folder


# GMSIM_FUZZ_EXAMPLES=5000 for a longer hunt; the default keeps the file fast.
FUZZ = settings(
    max_examples=int(os.environ.get("GMSIM_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(data=st.binary(max_size=200))
def test_fuzz_random_bytes(tmp_path, no_imports, data):
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(data)
    check_outcome(lambda: load_scenario(path))


@FUZZ
@given(
    text=st.text(
        alphabet=st.sampled_from(list("name:sed{}[]-,'\"!&*#|>?%@` \n\t0123.e+") + ["\x00", "é", "\ufeff"]), max_size=80
    )
)
def test_fuzz_yaml_like_text(tmp_path, no_imports, text):
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    check_outcome(lambda: load_scenario(path))


@FUZZ
@given(data=st.one_of(structures, shaped))
def test_fuzz_structures_through_yaml_and_from_dict(tmp_path, no_imports, data):
    check_outcome(lambda: Scenario.from_dict(data))  # type: ignore[arg-type]
    try:
        text = yaml.dump(data, allow_unicode=True)  # not safe_dump: dates, tuples etc. become tags
    except Exception:
        return
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    check_outcome(lambda: load_scenario(path))


# ---------------------------------------------------------------------- bounds, duplicates and sizes


def test_numbers_in_exponent_form_are_numbers(tmp_path):
    """YAML 1.1 reads 1e6 as text; a scenario's author means a million (as YAML 1.2 does)."""
    text = (
        "name: a\nparameters: {out_of_work_to_in_work.base: 5e-2}\n"
        "strands:\n  early_help: {budget_gbp_per_year: 1e6, unit_cost_gbp: 2.5E+3}\n"
    )
    sc = load_scenario(write(tmp_path, text))
    assert sc.strands["early_help"].budget_gbp_per_year == 1_000_000.0
    assert sc.strands["early_help"].unit_cost_gbp == 2500.0
    assert sc.parameters["out_of_work_to_in_work.base"] == 0.05
    assert load_scenario(write(tmp_path, "name: '1e6'\n")).name == "1e6"  # quoted, it is still text


@pytest.mark.parametrize(
    "text, line, first",
    [
        ("name: a\nmonths: 12\npopulation: {scale: 0.1}\nmonths: 24\n", 4, 2),
        ("name: a\nstrands:\n  early_help:\n    budget_gbp_per_year: 1\n    budget_gbp_per_year: 2\n", 5, 4),
        ("name: a\nparameters:\n  out_of_work_to_in_work.base: 0.1\n  out_of_work_to_in_work.base: 0.2\n", 4, 3),
    ],
)
def test_a_key_given_twice_is_refused(tmp_path, text, line, first):
    key, message = only_problem(tmp_path, text)
    assert key == ""
    assert message.startswith(f"malformed YAML at line {line}, column ")
    assert f"is given twice in one mapping (first at line {first}); keep one" in message


@pytest.mark.parametrize(
    "text, key, fragment",
    [
        ("name: a\npopulation: {scale: 1.0e-9}\n", "population.scale", "the fewest that can stand for ten boroughs"),
        ("name: a\npopulation: {history_sample: 1000000}\n", "population.history_sample", "from 0 to 10,000"),
        ("name: a\nstrands: {early_help: {unit_cost_gbp: 1.0e-300}}\n", "strands.early_help.unit_cost_gbp", "from 1"),
        (
            "name: a\nstrands: {early_help: {budget_gbp_per_year: 1.0e+308}}\n",
            "strands.early_help.budget_gbp_per_year",
            "typing error",
        ),
        (
            "name: a\nstrands: {early_help: {parameters: {unit_cost_gbp: 0.5}}}\n",
            "strands.early_help.parameters.unit_cost_gbp",
            "would fund places without limit",
        ),
    ],
)
def test_numbers_out_of_their_range_are_refused_with_the_reason(tmp_path, text, key, fragment):
    got_key, message = only_problem(tmp_path, text)
    assert got_key == key and fragment in message and "got" in message


def test_text_and_file_sizes_are_limited(tmp_path):
    key, message = only_problem(tmp_path, "name: a\ndescription: " + "x" * 10_001 + "\n")
    assert key == "description" and message.startswith("expected text of at most 10,000 characters")
    load_scenario(write(tmp_path, "name: a\ndescription: " + "x" * 10_000 + "\n"))
    big = write(tmp_path, "name: a\ndescription: " + "x" * 1_000_000 + "\n", "big.yaml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(big)
    assert info.value.problems == [
        ("", "the file is larger than 1,000,000 bytes; expected a scenario file (a page of settings)")
    ]


def test_many_unknown_names_are_all_reported_but_only_the_first_get_suggestions(tmp_path):
    """Each suggestion compares a name with every parameter's; after 20 the loader lists names only."""
    lines = [f"  out_of_work_to_in_wrk.base{k}: 0.1" for k in range(5000)]
    problems = problems_of(tmp_path, "name: a\nparameters:\n" + "\n".join(lines) + "\n")
    assert len(problems) == 5000
    hinted = [m for _, m in problems if "did you mean" in m]
    assert len(hinted) == 20 and all(m == "unknown parameter" for _, m in problems[20:])


@pytest.mark.parametrize(
    "change, key, fragment",
    [
        ("total_budget_gbp_per_year: 1.0e+308", "total_budget_gbp_per_year", "less than or equal to 10000000000"),
        ("description: " + "x" * 10_001, "description", "at most 10000 characters"),
        ("step: 0.5", "", "is given twice in one mapping"),
    ],
)
def test_sweep_files_are_bounded_and_refuse_duplicate_keys(tmp_path, change, key, fragment):
    from gmsim.comparison import load_mix

    lines = [f"name: m\nbase: {BASELINE}\nbaseline: {BASELINE}", "strands: [work_and_health, early_help]", "step: 0.5"]
    lines += [change] + ([] if change.startswith("total_") else ["total_budget_gbp_per_year: 6000000"])
    path = write(tmp_path, "\n".join(lines) + "\n", "mix.yaml")
    with pytest.raises(ScenarioError) as info:
        load_mix(path)
    assert len(info.value.problems) == 1 and info.value.problems[0][0] == key
    assert fragment in info.value.problems[0][1]


@pytest.mark.parametrize(
    "grid, fragment",
    [
        ("step: 0.0001", "greater than or equal to 0.01"),
        ("step: 0.01", "a step of 0.01 over 4 strands makes 176,851 mixes; expected at most 5,000"),
        ("samples: 100000", "less than or equal to 5000"),
    ],
)
def test_a_sweep_of_too_many_mixes_is_refused_at_once(tmp_path, grid, fragment):
    from gmsim.comparison import load_mix

    strands = "[work_and_health, early_help, care_and_support, in_work]"
    text = f"name: m\nbase: {BASELINE}\nbaseline: {BASELINE}\ntotal_budget_gbp_per_year: 1\nstrands: {strands}\n"
    with pytest.raises(ScenarioError) as info:
        load_mix(write(tmp_path, text + grid + ("\nstep: null\n" if "samples" in grid else "\n"), "mix.yaml"))
    ((key, message),) = info.value.problems
    assert key == grid.split(":")[0] and fragment in message


def test_the_pathways_recorded_are_bounded_in_person_months():
    """10,000 pathways over 1,200 months would take about 5 GB; the bound is 1.2 million person-months."""
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict({"name": "a", "months": 1200, "population": {"history_sample": 10_000}})
    assert info.value.problems == [
        (
            "population.history_sample",
            "expected at most 1,200,000 recorded person-months (history_sample x months, about 450 bytes of memory "
            "each), got 10,000 x 1,200 = 12,000,000",
        )
    ]
    assert Scenario.from_dict({"name": "a", "months": 1200, "population": {"history_sample": 1000}}).months == 1200
    with pytest.raises(ScenarioError, match="command line: population.history_sample: expected at most 1,200,000"):
        Scenario.from_dict({"name": "a", "population": {"history_sample": 10_000}}).with_overrides(months=240)


def test_a_job_readiness_spread_beyond_3_is_refused():
    with pytest.raises(Exception, match="standard deviation from 0 to 3"):
        Scenario.from_dict({"name": "x", "parameters": {"labour.job_readiness_sd": 5}}).parameter_set()
    assert (
        Scenario.from_dict({"name": "x", "parameters": {"labour.job_readiness_sd": 0}})
        .parameter_set()
        .value("labour.job_readiness_sd")
        == 0
    )
