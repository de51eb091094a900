"""report.html: user text autoescaped by the templates, the page self-contained, the tables as before."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from gmsim import report
from gmsim.comparison import MixSpec, sweep

ROOT = Path(__file__).resolve().parents[1]
SC = ROOT / "scenarios"
EVIL = "<script>alert(1)</script> & \"co\" 'x'"
EVIL_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;co&#34; &#39;x&#39;"


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory):
    """One tiny sweep (three mixes of two strands, two runs): the data of both kinds of report."""
    spec = MixSpec(
        name="tiny",
        base="work_and_health.yaml",
        baseline="baseline.yaml",
        total_budget_gbp_per_year=6e6,
        strands=["work_and_health", "early_help"],
        step=0.5,
    )
    out = tmp_path_factory.mktemp("sweep")
    return sweep(spec, runs=2, out=out, base_dir=SC, scale=0.002, months=12, workers=2)


def _renamed(result, old, new):
    """The result with every cell ``old`` of a text column replaced by ``new`` (e.g. a scenario's name)."""
    out = {}
    for key, df in result.items():
        df = df.copy()
        for c in df.columns:
            if pd.api.types.is_string_dtype(df[c]) or df[c].dtype == object:
                df[c] = df[c].map(lambda v: new if v == old else v)
        out[key] = df
    return out


def _compare_result(result):
    """A comparison of the sweep's comparator with its mixes, as :func:`gmsim.compare` returns one."""
    names = list(dict.fromkeys(result["impacts"].scenario))
    return {
        "impacts": result["impacts"],
        "replicates": result["replicates"],
        "over_time": result["over_time"],
        "scenarios": pd.DataFrame({"scenario": names, "description": [f"{n}: {EVIL}" for n in names]}),
    }


class _Page(HTMLParser):
    """The tags, attributes and text of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _check_page(page: Path, user_text: str) -> str:
    """Assert the page shows ``user_text`` as text, runs no script and fetches nothing; return its HTML."""
    html = page.read_text(encoding="utf-8")
    parsed = _Page()
    parsed.feed(html)
    text = "".join(parsed.text)
    assert user_text in text  # shown as the text it is...
    assert "<script" not in html.lower()  # ...not as markup
    tags = {tag for tag, _ in parsed.tags}
    assert not tags & {"script", "link", "iframe", "object", "embed"}, tags
    for tag, attrs in parsed.tags:
        for name in ("src", "href", "srcset", "action"):
            value = (attrs.get(name) or "").strip()
            assert not re.match(r"(https?:)?//", value), (tag, name, value[:80])
        if tag == "img":
            assert attrs["src"].startswith("data:image/png;base64,"), attrs["src"][:80]
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
    style = "".join(re.findall(r"<style>(.*?)</style>", html, re.S))
    assert "url(" not in style and "@import" not in style
    return html


def test_compare_report_escapes_user_text_and_is_self_contained(tiny_sweep, tmp_path):
    result = _renamed(_compare_result(tiny_sweep), "mix-100-0", EVIL)
    command = f"gmsim compare baseline.yaml '{EVIL}.yaml'"
    notes = {"seed": "1", f"note {EVIL}": EVIL}
    page = report.write_compare_report(result, tmp_path, command, notes)
    html = _check_page(page, EVIL)
    assert EVIL_ESCAPED in html
    assert f"<pre>gmsim compare baseline.yaml &#39;{EVIL_ESCAPED}.yaml&#39;</pre>" in html
    assert f"<li><b>{EVIL_ESCAPED}</b>: <b>" in html  # the headline of the renamed scenario
    assert f"<title>gmsim comparison: baseline, mix-0-100, mix-50-50, {EVIL_ESCAPED}</title>" in html
    for section in ("What was compared", "Headline results", "By borough", "By strand", "Plots", "Assumptions"):
        assert f"<h2>{section}</h2>" in html, section
    assert html.count("<img ") == 4 and "<h2>How to rerun</h2>" in html
    assert "<h3>The labour market</h3>" in html and "Applications per vacancy in a month" in html
    # gross, displaced and net job entries, each funded scenario against its own comparator
    section = html[html.index("<h2>Job entries: gross, displaced and net</h2>") :]
    assert "displacement" in section and f"<td>{EVIL_ESCAPED}</td>" in section.split("</table>")[0]


def test_sweep_report_escapes_user_text_and_is_self_contained(tiny_sweep, tmp_path):
    best = str(tiny_sweep["mixes"].loc[tiny_sweep["mixes"].best.astype(bool), "scenario"].iloc[0])
    result = _renamed(tiny_sweep, best, EVIL)
    notes = {"total budget": 6e6, "step": 0.5, "parameter uncertainty": EVIL}
    page = report.write_sweep_report(result, tmp_path, f"gmsim sweep '{EVIL}'", notes)
    html = _check_page(page, EVIL)
    assert f"is <b>{EVIL_ESCAPED}</b>" in html  # the best mix, in the box
    assert f"Greater Manchester best mix <b>{EVIL_ESCAPED}</b>" in html  # and in the borough section
    for section in ("What was swept", "Best mix", "Frontier", "By borough", "Attribution", "Plots", "Assumptions"):
        assert f"<h2>{section}</h2>" in html, section
    assert html.count("<img ") == 4


def test_dashboard_tables_escape_names_and_show_intervals(tiny_sweep):
    result = _renamed(tiny_sweep, "mix-50-50", EVIL)
    impacts, runs = result["impacts"], 2
    headline = report.headline_table(impacts, [EVIL], runs)
    assert headline.startswith("<table><thead><tr><th>Measure (Greater Manchester)</th>")
    assert f"<th>{EVIL_ESCAPED}</th>" in headline and "<script" not in headline
    row = impacts[
        (impacts.scenario == EVIL) & (impacts.metric == "extra_person_years_in_work") & (impacts.borough == report.GM)
    ].iloc[0]
    cell = f'<td class="num"><b>{report.fmt(row["mean"], "extra_person_years_in_work")}</b>'
    assert cell in headline
    boroughs = report.borough_table(impacts, [EVIL], runs)
    assert boroughs.count("<tr") == 12 and '<tr class="best"><td>Greater Manchester</td>' in boroughs
    assert "<td>Work and health</td>" in report.strand_table(impacts, [EVIL], runs)
    assert report.strand_table(impacts, ["no such scenario"], runs) == ""


def test_interval_cells():
    s = {"mean": 1234.4, "low": -5.6, "high": 2000, "p025": 0, "p975": 2500, "runs": 3}
    table = report._render_tables([report._table(["A"], [[report._interval_cell(s, "x", 4)]], numeric=[0])])
    assert table == (
        '<table><thead><tr><th>A</th></tr></thead><tbody><tr><td class="num"><b>1,234</b> '
        '<span class="ci">(95% CI \u22126 to 2,000)</span>'
        '<br><span class="zero">cannot be told apart from zero</span>'
        '<br><span class="rng">runs 2.5&ndash;97.5%: 0 to 2,500</span><br><span class="rng">from 3 of 4 runs '
        "(not defined in the others)</span></td></tr></tbody></table>"
    )
    render = report._templates().get_template("macros.html").module.interval
    assert str(render(report._interval_cell(None, "x", 2))) == "&mdash;"
    assert ">n/a</span>" in str(render(report._interval_cell({"mean": float("nan"), "runs": 2}, "x", 2)))
    one = {"mean": 2e6, "low": 2e6, "high": 2e6, "p025": 2e6, "p975": 2e6, "runs": 1}
    assert (
        str(render(report._interval_cell(one, "spend_gbp", 1)))
        == '<b>£2,000,000</b> <span class="rng">(one run)</span>'
    )
    nan = float("nan")
    ratio = {"mean": 16000.0, "low": nan, "high": nan, "p025": 9000, "p975": 30000, "runs": 3}
    ratio["note"] = "interval undefined: the 95% CI of the extra person-years in work includes zero"
    assert str(render(report._interval_cell(ratio, "cost_per_extra_person_year_in_work", 3, False))) == (
        '<b>£16,000</b><br><span class="zero">interval undefined: the 95% CI of the extra person-years in work '
        "includes zero</span>"
    )
    above = {"mean": 3.0, "low": 1.0, "high": 5.0, "p025": 1, "p975": 5, "runs": 3}
    assert "zero" not in str(render(report._interval_cell(above, "x", 3)))
    same = one | {"runs": 2}
    assert str(render(report._interval_cell(same, "spend_gbp", 2, False))) == (
        '<b>£2,000,000</b> <span class="rng">(the same in every run)</span>'
    )


def test_three_compared_scenarios_fit_a_1300_pixel_page(tiny_sweep, tmp_path, browser_page):
    """The headline table of three scenarios with long money intervals does not overflow the page."""
    result = _compare_result(tiny_sweep)
    page = report.write_compare_report(result, tmp_path, "gmsim compare ...", {})
    browser_page.set_viewport_size({"width": 1300, "height": 900})
    browser_page.goto(page.as_uri())
    widths = browser_page.evaluate(
        "() => [document.documentElement.scrollWidth,"
        " ...[...document.querySelectorAll('table')].map(t => t.scrollWidth)]"
    )
    assert len(widths) > 4 and max(widths) <= 1300, widths


def test_the_assumptions_list_every_labour_market_figure_whether_it_is_drawn_and_its_source():
    from gmsim.ensemble import DRAWN_MARKET
    from gmsim.parameters import read_data

    figures = read_data("parameters.yaml")["labour_market"]
    a = report._assumptions([], 10)
    rows = [r["cells"] for r in a["market"]["rows"]]
    assert len(rows) == len(figures) + 1
    listed = {s["id"] for s in a["sources"]}
    for (name, spec), (_, value, span, drawn, source, _) in zip(figures.items(), rows[:-1], strict=True):
        assert value.startswith(f"{float(spec['value']):g} ")
        assert span == "{:g} to {:g}".format(*spec["range"])
        assert drawn == ("yes" if f"labour_market.{name}" in DRAWN_MARKET else "no")
        assert source == spec["source"] and (source == "assumption" or source in listed)
    by_source = {r[4]: r for r in rows}
    assert by_source["vacancy_duration"][1:4] == ["1 share a month", "0.3 to 1", "no"]  # the stock: a sensitivity
    assert by_source["petrongolo_pissarides_2001_matching"][3] == "yes"  # the reference tightness is drawn
    # and how much more often the young work in the sectors a pandemic shuts (data/sectors.yaml)
    young = read_data("sectors.yaml")["young_hires"]["odds_ratio"]
    assert rows[-1][1:5] == [f"{young['value']:g} {young['unit']}", "2 to 4", "no", "ifs_sector_shutdowns_2020"]
    assert "ifs_sector_shutdowns_2020" in listed


def test_a_labour_market_figure_every_scenario_sets_shows_the_value_used_and_is_not_drawn():
    from gmsim.comparison import common_parameters
    from gmsim.scenario import load_scenario

    sc = Path(__file__).resolve().parents[1] / "scenarios"
    setting = {"labour_market.vacancy_withdrawal": 0.5, "labour_market.tightness": 1.1}
    names = ("baseline", "in_work")
    baseline, mix = (load_scenario(sc / f"{n}.yaml").with_overrides(parameters=setting) for n in names)
    other = load_scenario(sc / "in_work.yaml").with_overrides(parameters={"labour_market.tightness": 0.8})
    assert common_parameters([baseline, mix]) == setting
    assert common_parameters([baseline, other]) == {}  # set unalike: the data file's value is the one shown
    rows = {r["cells"][4]: r["cells"] for r in report._assumptions([], 10, setting)["market"]["rows"]}
    used = "0.5 share a month (set for these runs; 1 in the data file)"
    assert rows["vacancy_duration"][1:4] == [used, "0.3 to 1", "no (set)"]
    assert rows["petrongolo_pissarides_2001_matching"][3] == "no (set)"  # a drawn figure, set: not drawn
    assert rows["uk_job_to_job_moves"][3] == "no" and "set for" not in rows["uk_job_to_job_moves"][1]
