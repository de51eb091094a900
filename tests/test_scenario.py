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

from gmsim.scenario import PopulationSpec, Scenario, ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


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
    s = Scenario.from_dict({"name": "rt", "description": "x: y", "seed": 3,
                            "parameters": {"benefits.reassessment_rate": 0.02}})
    d = s.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert set(d) == {"name", "description", "seed", "months", "population", "parameters"}
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


@pytest.mark.parametrize(("text", "shown"), [("- a\n- b\n", "a list"), ("just text\n", "'just text'"),
                                             ("42\n", "42")])
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
        ("name: a\npopulation: {scale: -1}\n", "population.scale", "expected a number > 0 and <= 10, got -1"),
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
        ("name: a\ndescription: [x]\n", "description", "expected text, got a list"),
        ("name: a\nparameters: [1]\n", "parameters", "expected a mapping of parameter names to numbers"),
    ],
)
def test_wrong_type_or_out_of_range(tmp_path, text, key, fragment):
    got_key, message = only_problem(tmp_path, text)
    assert got_key == key
    assert fragment in message, message
    assert message.startswith("expected ")


@pytest.mark.parametrize(("text", "key"), [
    ("name: a\nseed: true\n", "seed"),
    ("name: a\nmonths: yes\n", "months"),
    ("name: a\npopulation: {history_sample: false}\n", "population.history_sample"),
    ("name: a\npopulation: {scale: true}\n", "population.scale"),
    ("name: a\nparameters: {benefits.reassessment_rate: true}\n", "parameters.benefits.reassessment_rate"),
])
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


@pytest.mark.parametrize(("name", "value", "fragment"), [
    ("benefits.reassessment_rate", "-0.1", ">= 0"),
    ("demography.mortality.16-24", "1.5", "probability"),
    ("out_of_work_to_in_work.base", ".nan", "finite"),
    ("out_of_work_to_in_work.base", "fast", "expected a number"),
    ("out_of_work_to_in_work.base", "[0.1]", "expected a number, got a list"),
    ("out_of_work_to_in_work.base", "1" + "0" * 400, "expected a number"),
])
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
        "name", "sede", "months", "population.scale", "population.histroy_sample",
        "parameters.out_of_work_to_in_work.bse", "parameters.benefits.reassessment_rate",
        "parameters.in_work_to_at_risk.base",
    ]
    lines = str(info.value).splitlines()
    assert len(lines) == 8
    assert all(line.startswith(f"{path}: ") for line in lines)
    assert f"{path}: population.scale: expected a number > 0 and <= 10, got -1" in lines
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
    b = load_scenario(write(tmp_path, "# same content, other layout\npopulation:\n  scale: 1.0\n"
                                      "seed: 2\nname: a\nmonths: 120\n", "b.yaml"))
    assert a.content_hash() == b.content_hash()
    assert len(a.content_hash()) == 64 and all(c in string.hexdigits for c in a.content_hash())
    assert Scenario.default().content_hash() == Scenario.default().content_hash()


def test_parameter_order_does_not_change_the_hash():
    p = {"benefits.reassessment_rate": 0.02, "out_of_work_to_in_work.base": 0.15}
    a = Scenario.from_dict({"name": "a", "parameters": p})
    b = Scenario.from_dict({"name": "a", "parameters": dict(reversed(list(p.items())))})
    assert a.content_hash() == b.content_hash()


@pytest.mark.parametrize("change", [
    {"name": "other"}, {"description": "x"}, {"seed": 2}, {"months": 119},
    {"population": {"scale": 0.5}}, {"population": {"history_sample": 999}},
    {"parameters": {"out_of_work_to_in_work.base": 0.15}},
])
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


@pytest.mark.parametrize(("kwargs", "key"), [
    ({"seed": -1}, "seed"), ({"months": 0}, "months"), ({"months": 5000}, "months"),
    ({"scale": 0.0}, "population.scale"), ({"scale": 11.0}, "population.scale"),
    ({"scale": math.nan}, "population.scale"), ({"seed": True}, "seed"),
])
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


# ---------------------------------------------------------------------------- fuzzing

FIELDS = ["name", "description", "seed", "months", "population", "parameters", "scale", "history_sample",
          "out_of_work_to_in_work.base", "benefits.reassessment_rate", "demography.mortality.16-24"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20), st.sampled_from(FIELDS),
    st.dates(),
)
keys = st.one_of(st.sampled_from(FIELDS), st.text(max_size=12), st.integers(), st.booleans(), st.none(),
                 st.floats(allow_nan=False), st.dates())
structures = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)),
    max_leaves=20,
)
# Mostly-valid scenarios with random values in the right places, to reach the deeper checks.
shaped = st.fixed_dictionaries(
    {"name": st.one_of(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,10}", fullmatch=True), structures)},
    optional={
        "seed": structures, "months": structures, "description": structures,
        "population": st.one_of(st.fixed_dictionaries({}, optional={"scale": structures,
                                                                    "history_sample": structures}),
                                structures),
        "parameters": st.one_of(st.dictionaries(keys, structures, max_size=4), structures),
        "extends": structures, "strands": structures,
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


# GMSIM_FUZZ_EXAMPLES=5000 for a longer hunt; the default keeps the file fast.
FUZZ = settings(max_examples=int(os.environ.get("GMSIM_FUZZ_EXAMPLES", "200")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(data=st.binary(max_size=200))
def test_fuzz_random_bytes(tmp_path, data):
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(data)
    check_outcome(lambda: load_scenario(path))


@FUZZ
@given(text=st.text(alphabet=st.sampled_from(list("name:sed{}[]-,'\"!&*#|>?%@` \n\t0123.e+") + ["\x00", "é",
                                                                                           "\ufeff"]),
                    max_size=80))
def test_fuzz_yaml_like_text(tmp_path, text):
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    check_outcome(lambda: load_scenario(path))


@FUZZ
@given(data=st.one_of(structures, shaped))
def test_fuzz_structures_through_yaml_and_from_dict(tmp_path, data):
    check_outcome(lambda: Scenario.from_dict(data))  # type: ignore[arg-type]
    try:
        text = yaml.dump(data, allow_unicode=True)  # not safe_dump: dates, tuples etc. become tags
    except Exception:
        return
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    check_outcome(lambda: load_scenario(path))
