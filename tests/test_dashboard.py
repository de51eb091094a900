"""The policy dashboard: controls to scenarios, bad input, and the page itself in headless Chromium."""

import contextlib
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from gmsim import dashboard as db
from gmsim.dashboard import (
    WORKING_WELL_STRANDS,
    Choices,
    DashboardError,
    budgets_of,
    plan,
    shares_of,
    split_total,
    start_scenarios,
    strand_controls,
)
from gmsim.dashboard import run as run_comparison
from gmsim.interventions import REGISTRY, registered
from gmsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SC = ROOT / "scenarios"
SHOTS = Path(os.environ.get("GMSIM_TEST_OUTPUT", ROOT / "test-output"))

# A researcher's own intervention module, written as docs/model.md section 7.4.6 shows (keep the two in step),
# and a scenario that names the module and funds its intervention.
OVER_FIFTIES = "test_over_fifties"
OVER_FIFTIES_PY = '''
from gmsim import codes
from gmsim.interventions import Intervention, register


@register
class OverFifties(Intervention):
    """Job-search support for people aged 50-64 out of work."""

    name = "test_over_fifties"
    title = "Over-50s job search"
    claims = ("out_of_work_to_in_work",)

    defaults = {
        "unit_cost_gbp": 1000.0,
        "support_months": 6,
        "max_wait_months": 3,
        "dropout_rate": 0.1,
        "routes": {"jobcentre": {"rate": 0.02, "take_up": 0.8}},
        "effects": {"out_of_work_to_in_work": {"value": 1.2, "low": 1.0, "high": 1.5, "distribution": "lognormal"}},
    }

    def eligible(self, people):
        return (people.state == codes.OUT_OF_WORK) & (people.age_months >= 50 * 12)
'''
OVER_FIFTIES_YAML = """\
name: over_fifties
extends: baseline.yaml
modules: [over_fifties.py]
strands:
  test_over_fifties: {budget_gbp_per_year: 500000}
"""


def test_the_sliders_become_the_funded_scenario_and_the_baseline_its_comparator(tmp_path):
    p = plan(
        Choices(
            start="working_well",
            budgets_m={"early_help": 4.0, "in_work": 0.0},
            months="24",
            scale="0.01",
            runs="3",
            seed="7",
            parameter_uncertainty=False,
        ),
        SC,
    )
    ww = load_scenario(SC / "working_well.yaml")
    assert list(p.scenario.strands) == ["work_and_health", "early_help", "care_and_support"]  # in work at 0: dropped
    assert p.budgets_gbp() == {"work_and_health": 6e6, "early_help": 4e6, "care_and_support": 2e6}
    assert p.scenario.strands["work_and_health"].parameters == ww.strands["work_and_health"].parameters
    assert (p.scenario.months, p.scenario.population.scale) == (24, 0.01)
    assert p.comparator == load_scenario(SC / "baseline.yaml").with_overrides(months=24, scale=0.01)
    assert (p.runs, p.seed, p.parameter_uncertainty) == (3, 7, False)
    # "Download scenario" reads back to the same scenario, and says how to rerun the page's numbers
    path = tmp_path / "dashboard.yaml"
    path.write_text(p.scenario_yaml())
    assert load_scenario(path).content_hash() == p.scenario.content_hash()
    assert "--runs 3 --seed 7 --months 24 --scale 0.01 --no-parameter-uncertainty" in p.scenario_yaml()


def test_the_economy_control_runs_both_scenarios_in_that_economy_against_its_own_comparator():
    p = plan(Choices(start="working_well", economy="recession", months="24", scale="0.01"), folder=SC)
    assert p.comparator.name == "recession" and p.comparator_file == "recession.yaml"
    assert p.comparator.economy.shape == p.scenario.economy.shape == "recession"
    assert p.scenario.strands and not p.comparator.strands
    assert "recession.yaml dashboard.yaml" in p.command()
    assert "recession economy" in p.scenario.description
    with pytest.raises(DashboardError) as info:
        plan(Choices(economy="boom"), folder=SC)
    assert "Economy: expected one of steady, recession, pandemic, got 'boom'" in str(info.value)


def test_a_start_scenario_keeps_its_strand_settings_and_budgets():
    starts = start_scenarios(SC)
    assert {"baseline", "working_well", "equal_split", "working_well_pilot"} <= set(starts)
    assert "funding_mix" not in starts  # a sweep file, not a scenario
    pilot = starts["working_well_pilot"]
    p = plan(Choices(start="working_well_pilot", budgets_m=budgets_of(pilot), months="60", scale="0.01"), SC)
    assert p.scenario.strands == pilot.strands
    empty = plan(Choices(start="baseline", budgets_m={}, months="12", scale="0.01"), SC)
    assert empty.scenario.strands == {}


def test_a_start_scenario_with_a_budget_schedule_gives_its_first_year_s_budget_for_the_whole_run():
    starts = start_scenarios(SC)
    doubled = starts["double_early_help"]
    assert budgets_of(doubled)["early_help"] == 3.0  # 2026-27, its first year
    p = plan(Choices(start="double_early_help", budgets_m=budgets_of(doubled), months="24", scale="0.01"), SC)
    assert p.scenario.strands["early_help"].budget_by_financial_year == {}
    assert p.budgets_gbp()["early_help"] == 3e6


def test_only_the_strands_come_from_the_start_scenario(tmp_path):
    shutil.copy(SC / "baseline.yaml", tmp_path / "baseline.yaml")
    (tmp_path / "tweaked.yaml").write_text(
        "extends: baseline.yaml\nname: tweaked\nseed: 99\nparameters: {out_of_work_to_in_work.base: 0.01}\n"
        "strands:\n  early_help: {budget_gbp_per_year: 2000000, parameters: {support_months: 4}}\n"
    )
    p = plan(Choices(start="tweaked", budgets_m={}, months="12", scale="0.01"), tmp_path)
    assert p.scenario.parameters == p.comparator.parameters == {}  # the difference is the strands alone
    assert p.scenario.seed == p.comparator.seed
    assert p.budgets_gbp() == {"early_help": 2e6}
    assert p.scenario.strands["early_help"].parameters == {"support_months": 4}
    assert p.command().startswith(f"gmsim compare {tmp_path.resolve() / 'baseline.yaml'} dashboard.yaml")


@pytest.fixture
def researcher_folder(tmp_path):
    """A scenarios folder as a researcher has it: baseline, working_well, and their module with its scenario.

    The module's intervention is taken out of the registry afterwards, so that other tests do not see it.
    """
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for name in ("baseline.yaml", "working_well.yaml"):
        shutil.copy(SC / name, folder / name)
    (folder / "over_fifties.py").write_text(OVER_FIFTIES_PY)
    (folder / "over_fifties.yaml").write_text(OVER_FIFTIES_YAML)
    try:
        yield folder
    finally:
        REGISTRY.pop(OVER_FIFTIES, None)


def test_the_controls_are_the_registered_strands_working_well_first():
    controls = strand_controls(start_scenarios(SC))
    assert [(c.name, c.title, c.modules) for c in controls] == [
        ("work_and_health", "Work and health", ()),
        ("early_help", "Early help", ()),
        ("care_and_support", "Care and support", ()),
        ("in_work", "In work (employers)", ()),
    ]
    assert db.STRANDS == WORKING_WELL_STRANDS
    assert db.STRAND_TITLES == {c.name: c.title for c in controls}


def test_a_researchers_own_intervention_gets_controls_and_can_be_funded(researcher_folder, tmp_path):
    assert OVER_FIFTIES not in registered()
    starts = start_scenarios(researcher_folder)  # loading the start scenarios imports the module they name
    assert list(starts) == ["baseline", "over_fifties", "working_well"]
    controls = strand_controls(starts)
    names = [c.name for c in controls]
    assert names == [*WORKING_WELL_STRANDS, OVER_FIFTIES]  # the Working Well strands first
    mine = controls[-1]
    assert (mine.title, mine.modules) == ("Over-50s job search", (str(researcher_folder / "over_fifties.py"),))
    assert db.STRAND_TITLES[OVER_FIFTIES] == "Over-50s job search"
    assert budgets_of(starts["over_fifties"]) == {**dict.fromkeys(WORKING_WELL_STRANDS, 0.0), OVER_FIFTIES: 0.5}

    # a budget for it, starting from a scenario that does not name its module: the funded scenario names it
    choices = Choices(start="working_well", budgets_m={OVER_FIFTIES: 2.0}, months="12", scale="0.01", runs="1")
    p = plan(choices, researcher_folder, starts, controls)
    ww = {"work_and_health": 6e6, "early_help": 3e6, "care_and_support": 2e6, "in_work": 1e6}
    assert p.budgets_gbp() == {**ww, OVER_FIFTIES: 2e6}
    assert p.scenario.modules == list(mine.modules) and p.comparator.modules == []
    assert "Over-50s job search GBP 2m a year" in p.scenario.description
    assert plan(choices, researcher_folder) == p  # the same controls when the dashboard reads the folder itself
    path = tmp_path / "dashboard.yaml"
    path.write_text(p.scenario_yaml())
    assert load_scenario(path).content_hash() == p.scenario.content_hash()
    # its own scenario as the start: its settings and budget; at 0 it is not funded, nor its module named
    own = plan(Choices(start="over_fifties", budgets_m={}, months="12", scale="0.01"), researcher_folder, starts)
    assert own.scenario.strands == starts["over_fifties"].strands and own.scenario.modules == list(mine.modules)
    none = plan(
        Choices(start="over_fifties", budgets_m={OVER_FIFTIES: 0.0}, months="12", scale="0.01"), researcher_folder
    )
    assert none.scenario.strands == {} and none.scenario.modules == []
    # a total split in shares, and a bad budget named by its title
    shares = shares_of({"early_help": 1, OVER_FIFTIES: 3})
    assert shares == {**dict.fromkeys(WORKING_WELL_STRANDS, 0.0), "early_help": 25, OVER_FIFTIES: 75}
    assert split_total("8", shares)[OVER_FIFTIES] == 6
    with pytest.raises(DashboardError) as err:
        plan(Choices(start="working_well", budgets_m={OVER_FIFTIES: 31.0}), researcher_folder, starts)
    assert err.value.messages == ["Over-50s job search budget: expected GBP 0 to 30 million a year, got 31.0"]

    # and the comparison runs it, in a worker process
    outcome = run_comparison(p, tmp_path / "store", workers=1)
    impacts = outcome.result["impacts"]
    mine_gm = impacts[(impacts.scenario == "dashboard") & (impacts.borough == "Greater Manchester")]
    started = mine_gm[(mine_gm.strand == OVER_FIFTIES) & (mine_gm.metric == "started")]
    assert len(started) == 1 and started["mean"].iloc[0] > 0
    assert "Over-50s job search" in outcome.tables()["strands"]


def test_bad_controls_get_one_message_each_naming_the_control():
    with pytest.raises(DashboardError) as err:
        plan(
            Choices(
                start="nope",
                budgets_m={"early_help": -1.0, "carers": 1.0},
                months="0",
                scale="2",
                runs="abc",
                seed="-1",
            ),
            SC,
        )
    messages = err.value.messages
    assert len(messages) == 7, messages
    for start in (
        "Start from: expected one of baseline",
        "Runs: expected a whole number from 1 to 200, got 'abc'",
        "Seed: expected a whole number >= 0, got '-1'",
        "Months: expected a whole number from 1 to 1,200",
        "Scale: expected a number from 0.001 (1,781 people, the fewest that can stand for ten boroughs) to 1, got '2'",
        "Budgets: expected strands",
        "Early help budget: expected GBP 0 to 30 million a year, got -1.0",
    ):
        assert any(m.startswith(start) for m in messages), (start, messages)
    with pytest.raises(DashboardError, match="Scenarios folder: expected"):
        plan(Choices(), SC / "missing")


def test_a_total_and_shares_give_the_same_scenario_as_the_budgets_they_stand_for():
    ww = budgets_of(load_scenario(SC / "working_well.yaml"))
    shares = shares_of(ww)  # 6, 3, 2 and 1 of 12: whole per cent by largest remainder, adding up to 100
    assert shares == {"work_and_health": 50, "early_help": 25, "care_and_support": 17, "in_work": 8}
    assert shares_of({"early_help": 1, "in_work": 1, "care_and_support": 1}) == {
        "work_and_health": 0,
        "early_help": 34,
        "care_and_support": 33,
        "in_work": 33,
    }  # ties: strand order
    assert split_total("12", shares) == {
        "work_and_health": 6,
        "early_help": 3,
        "care_and_support": 2.04,
        "in_work": 0.96,
    }
    even = {"work_and_health": 6.0, "early_help": 3.0, "care_and_support": 1.8, "in_work": 1.2}
    assert split_total(" 12 ", shares_of(even)) == even
    by_budget = plan(Choices(start="working_well", budgets_m=even, months="12", scale="0.01"), SC)
    by_split = plan(
        Choices(start="working_well", budgets_m=split_total("12", shares_of(even)), months="12", scale="0.01"), SC
    )
    assert by_split.scenario.content_hash() == by_budget.scenario.content_hash()
    half = split_total(24, {"early_help": 60, "in_work": 40})
    assert half == {"work_and_health": 0.0, "early_help": 14.4, "care_and_support": 0.0, "in_work": 9.6}
    assert shares_of({}) == {s: 25.0 for s in ww}  # no budget at all: equal shares
    with pytest.raises(DashboardError) as err:
        split_total("lots", {"early_help": 60, "in_work": 30})
    assert err.value.messages == [
        "Total: expected GBP 0 to 120 million a year, got 'lots'",
        "Shares: expected shares from 0 to 100% adding up to 100%, got 90%",
    ]
    with pytest.raises(DashboardError, match="^Shares: .* got 100%$"):
        split_total("12", {"early_help": 150, "in_work": -50})


def test_cli_dashboard_rejects_bad_options_with_one_line():
    busy = socket.create_server(("127.0.0.1", 0))
    try:
        for args, key in (
            (["--port", "70000"], "--port"),
            (["--scenarios", str(SC / "missing")], "--scenarios"),
            (["--port", str(busy.getsockname()[1])], "--port"),
        ):
            r = subprocess.run(
                [sys.executable, str(ROOT / "run_sim.py"), "dashboard", *args],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert r.returncode == 2, (args, r.stderr)
            lines = r.stderr.strip().splitlines()
            assert len(lines) == 1 and key in lines[0] and "Traceback" not in r.stderr, r.stderr
    finally:
        busy.close()


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        return s.getsockname()[1]


def _wait_for(url: str, server: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the dashboard stopped: {server.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"the dashboard did not answer at {url} within {seconds} s")


def _server_processes(port: int) -> list[int]:
    """Processes of a dashboard on ``port``: the Solara server and any worker it forked (same command line)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"gmsim.dashboard_page" in cmd and str(port).encode() in cmd:
            found.append(int(proc.name))
    return found


def _listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as /proc/net/tcp* gives them) of sockets listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


class Dashboard:
    """A ``gmsim dashboard`` command on a free loopback port."""

    def __init__(self, folder: Path, scenarios: Path = SC) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.command = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "run_sim.py"),
                "dashboard",
                "--port",
                str(self.port),
                "--scenarios",
                str(scenarios),
                "--out",
                str(folder / "store"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=folder,
        )
        _wait_for(self.url, self.command)

    def stop(self) -> int:
        """Stop the command as a service manager would (SIGTERM); its exit status."""
        self.command.terminate()
        try:
            return self.command.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.command.kill()
            raise

    def assert_stopped(self) -> None:
        """Nothing answers on the port and no process of the dashboard is left."""
        with pytest.raises(urllib.error.URLError) as err:
            urllib.request.urlopen(self.url, timeout=5)
        assert isinstance(err.value.reason, ConnectionRefusedError), err.value
        deadline = time.monotonic() + 10
        while _server_processes(self.port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _server_processes(self.port) == []


@contextlib.contextmanager
def _serving(server: Dashboard):
    """A started dashboard (checked to listen on loopback only), stopped and checked after."""
    try:
        assert _listening_addresses(server.port) == {"0100007F"}  # 127.0.0.1 only
        yield server
    finally:
        if server.command.poll() is None:
            assert server.stop() == 0
        server.assert_stopped()


@pytest.fixture
def dashboard(tmp_path, browser_page):
    """A dashboard server on a free loopback port (listening on loopback only), stopped and checked after."""
    with _serving(Dashboard(tmp_path)) as server:
        yield server


@pytest.fixture
def researcher_dashboard(researcher_folder, tmp_path, browser_page):
    """A dashboard server on the scenarios folder of :func:`researcher_folder`."""
    with _serving(Dashboard(tmp_path, researcher_folder)) as server:
        yield server


def test_the_page_runs_a_comparison_that_matches_the_command_line(dashboard, browser_page, tmp_path):
    page = browser_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(dashboard.url)
    page.wait_for_selector("text=Annual budget of each strand", timeout=60_000)
    run = page.locator(".gmsim-run")

    # a bad value gets a message on the page and no run
    page.get_by_label("Runs (replicates)").fill("abc")
    problem = page.locator(".gmsim-problem")
    problem.first.wait_for(timeout=20_000)
    assert "Runs: expected a whole number from 1 to 200, got 'abc'" in problem.first.inner_text()
    assert run.is_disabled()
    assert "Traceback" not in page.inner_text("body")

    page.get_by_label("Runs (replicates)").fill("2")
    page.get_by_label("Months").fill("24")
    page.get_by_label("Scale (share of 1,781,000 people)").fill("0.01")
    page.get_by_label("Seed").fill("7")
    # move the early help slider four steps of GBP 0.25m: 3.00 -> 4.00
    label = page.locator(".gmsim-budget-early_help .gmsim-label")
    assert label.inner_text() == "Early help: £3.00m"
    page.locator(".gmsim-budget-early_help [role=slider]").focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => document.querySelector('.gmsim-budget-early_help .gmsim-label').innerText.includes('4.00')",
        timeout=20_000,
    )
    # The label and the total are separate widgets: the browser may update one a moment before the other.
    page.wait_for_function("() => !document.querySelector('.gmsim-total').innerText.includes('12.')", timeout=20_000)
    assert page.locator(".gmsim-total").inner_text() == "Total £13.00m a year"
    # an exact amount, between the slider's steps, typed in
    exact = page.locator(".gmsim-exact-in_work input")
    exact.fill("1.37")
    exact.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('.gmsim-budget-in_work .gmsim-label').innerText.includes('1.37')",
        timeout=20_000,
    )
    page.wait_for_function("() => document.querySelector('.gmsim-total').innerText.includes('13.37')", timeout=20_000)
    page.wait_for_timeout(2000)  # the slider, at its nearest step (1.25), must not round the amount typed
    assert page.locator(".gmsim-budget-in_work .gmsim-label").inner_text() == "In work (employers): £1.37m"
    page.wait_for_function("() => document.querySelectorAll('.gmsim-problem').length === 0", timeout=20_000)

    run.click()
    page.locator(".gmsim-progress").wait_for(timeout=60_000)  # a fresh run store: the runs take seconds
    page.wait_for_selector(".gmsim-headline table", timeout=600_000)
    row = page.locator(
        ".gmsim-headline tr", has=page.get_by_role("cell", name="Extra person-years in work", exact=True)
    )
    shown = row.locator("b").inner_text()
    assert "Only 2 runs per scenario" in page.locator(".gmsim-few-runs").inner_text()  # a warning above them
    assert page.locator(".gmsim-headline th").nth(1).inner_text() == "Your choices vs the baseline"
    page.locator(".gmsim-progress").wait_for(state="detached", timeout=60_000)
    assert page.locator(".gmsim-report img").count() == 5  # stocks, impacts, boroughs, strands, cost
    page.set_viewport_size({"width": 1400, "height": 5200})  # the page scrolls inside: show it all
    page.screenshot(path=str(SHOTS / "dashboard.png"))

    with page.expect_download() as got:
        page.get_by_text("Download scenario").click()
    yaml_path = tmp_path / "dashboard.yaml"
    got.value.save_as(yaml_path)
    with page.expect_download() as got:
        page.get_by_text("Download results").click()
    results = zipfile.ZipFile(io.BytesIO(Path(got.value.path()).read_bytes()))

    # changing a control after the run says the results are for the earlier choices
    page.get_by_label("Seed").fill("8")
    page.locator(".gmsim-stale").wait_for(timeout=20_000)

    scenario = load_scenario(yaml_path)
    assert scenario.strands["early_help"].budget_gbp_per_year == 4e6
    assert {"impacts.csv", "replicates.csv", "over_time.csv", "stocks.csv", "report.html", "dashboard.yaml"} <= set(
        results.namelist()
    )
    # the same comparison from the command line gives the same numbers
    out = tmp_path / "cli"
    r = subprocess.run(
        [
            sys.executable,
            str(ROOT / "run_sim.py"),
            "compare",
            str(SC / "baseline.yaml"),
            str(yaml_path),
            "--runs",
            "2",
            "--seed",
            "7",
            "--months",
            "24",
            "--scale",
            "0.01",
            "--workers",
            "2",
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    cli = pd.read_csv(out / "impacts.csv")
    page_impacts = pd.read_csv(io.BytesIO(results.read("impacts.csv")))
    pd.testing.assert_frame_equal(page_impacts, cli)
    row = cli[
        (cli.scenario == "dashboard")
        & (cli.metric == "extra_person_years_in_work")
        & (cli.borough == "Greater Manchester")
        & (cli.strand == "all")
    ]
    # the page rounds the mean itself, the table to 2 decimals first: they agree to within the rounding
    assert abs(float(shown.replace(",", "").replace("\u2212", "-")) - row["mean"].iloc[0]) <= 0.5 + 0.005


def test_the_page_splits_a_total_budget_in_shares(dashboard, browser_page):
    page = browser_page
    page.goto(dashboard.url)
    page.wait_for_selector("text=Annual budget of each strand", timeout=60_000)
    page.get_by_text("Split a total budget").click()
    label = page.locator(".gmsim-share-work_and_health .gmsim-label")
    label.wait_for(timeout=20_000)
    assert label.inner_text() == "Work and health: 50% = £6.00m"  # working_well's GBP 12m, carried across
    assert page.locator(".gmsim-share-in_work .gmsim-label").inner_text() == "In work (employers): 8% = £0.96m"
    page.get_by_label("Total budget, £ million a year").fill("24")
    page.wait_for_function(
        "() => document.querySelector('.gmsim-share-work_and_health .gmsim-label').innerText.includes('£12.00m')",
        timeout=20_000,
    )
    # shares that do not add up to 100% are a problem, and nothing can be run
    page.locator(".gmsim-share-early_help [role=slider]").focus()
    page.keyboard.press("ArrowRight")
    problem = page.locator(".gmsim-problem")
    problem.first.wait_for(timeout=20_000)
    assert problem.first.inner_text() == "Shares: expected shares from 0 to 100% adding up to 100%, got 101%"
    assert page.locator(".gmsim-share-total").inner_text() == "Shares add up to 101%"
    assert page.locator(".gmsim-run").is_disabled()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => document.querySelectorAll('.gmsim-problem').length === 0", timeout=20_000)
    assert page.locator(".gmsim-run").is_enabled()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "dashboard-split.png"))
    # back to a budget per strand: the sliders hold the split of the GBP 24m, to their steps of GBP 0.25m
    page.get_by_text("Split a total budget").click()
    page.locator(".gmsim-total").wait_for(timeout=20_000)
    assert page.locator(".gmsim-budget-care_and_support .gmsim-label").inner_text() == "Care and support: £4.00m"
    assert page.locator(".gmsim-budget-in_work .gmsim-label").inner_text() == "In work (employers): £2.00m"
    assert page.locator(".gmsim-total").inner_text() == "Total £24.00m a year"


def test_a_run_can_be_stopped_from_the_page_and_with_the_server(dashboard, browser_page, tmp_path):
    page = browser_page
    page.goto(dashboard.url)
    page.wait_for_selector("text=Annual budget of each strand", timeout=60_000)
    # 10 replicates of 2 runs: each replicate's runs go to a worker together (shared runs), 2 at a time
    page.get_by_label("Scale (share of 1,781,000 people)").fill("0.1")
    page.get_by_label("Runs (replicates)").fill("10")
    page.wait_for_function("() => document.querySelectorAll('.gmsim-problem').length === 0", timeout=20_000)
    page.locator(".gmsim-run").click()

    def done_between(low: int, high: int) -> str:
        return (
            "() => { const m = /([0-9]+) of 20 runs done/.exec(document.body.innerText); "
            f"return m !== null && +m[1] >= {low} && +m[1] <= {high}; }}"
        )

    page.wait_for_function(done_between(1, 19), timeout=120_000)
    # the page's Stop button: the runs under way finish, the rest are not started, the finished ones are kept
    page.locator(".gmsim-stop").click()
    notice = page.locator(".gmsim-notice")
    notice.wait_for(timeout=120_000)
    assert "Stopped after" in notice.inner_text() and "of 20 runs" in notice.inner_text()
    kept = len(list((tmp_path / "store" / "runs").glob("*.npz")))
    assert 1 <= kept < 20
    assert page.locator(".gmsim-run").is_enabled()
    # Run again carries on from the kept runs; stopping the server then stops its workers too
    page.locator(".gmsim-run").click()
    page.wait_for_function(done_between(kept + 1, 19) if kept < 18 else done_between(1, 19), timeout=120_000)
    assert len(_server_processes(dashboard.port)) >= 2  # the server and the workers it forked
    assert dashboard.stop() == 0
    dashboard.assert_stopped()


def test_the_page_has_controls_for_a_researchers_own_intervention(
    researcher_dashboard, researcher_folder, browser_page, tmp_path
):
    page = browser_page
    page.goto(researcher_dashboard.url)
    page.wait_for_selector("text=Annual budget of each strand", timeout=60_000)
    label = page.locator(f".gmsim-budget-{OVER_FIFTIES} .gmsim-label")
    assert label.inner_text() == "Over-50s job search: £0.00m"  # not funded in working_well, the page's start
    page.locator(f".gmsim-budget-{OVER_FIFTIES} [role=slider]").focus()
    for _ in range(2):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        f"() => document.querySelector('.gmsim-budget-{OVER_FIFTIES} .gmsim-label').innerText.includes('0.50')",
        timeout=20_000,
    )
    page.wait_for_function(
        "() => document.querySelector('.gmsim-total').innerText === 'Total £12.50m a year'", timeout=20_000
    )
    page.wait_for_function("() => document.querySelectorAll('.gmsim-problem').length === 0", timeout=20_000)
    assert page.locator(".gmsim-run").is_enabled()
    with page.expect_download() as got:
        page.get_by_text("Download scenario").click()
    got.value.save_as(tmp_path / "dashboard.yaml")
    funded = load_scenario(tmp_path / "dashboard.yaml")
    assert funded.strands[OVER_FIFTIES].budget_gbp_per_year == 5e5
    assert funded.modules == [str(researcher_folder / "over_fifties.py")]
    page.get_by_text("Split a total budget").click()
    share = page.locator(f".gmsim-share-{OVER_FIFTIES} .gmsim-label")
    share.wait_for(timeout=20_000)
    assert share.inner_text() == "Over-50s job search: 4% = £0.50m"  # GBP 0.5m of 12.5m
