"""Fit the base hazards to Greater Manchester's targets: ``python -m gmsim.calibrate``.

Each fitted parameter is paired with the target it mainly drives (``FITS``). Starting from the values in
``data/parameters.yaml``, the baseline is run (120 months, the targets read as means over months
13-120, common random numbers so that successive runs differ only by the parameter change) and every
parameter is moved by a damped secant step on a log scale towards its target:

    log theta  +=  damping x (g(target) - g(model)) / elasticity

where ``g`` is log for counts and rates and logit for shares, and each parameter's elasticity is
re-estimated from its last two steps. The first iterations run on a sample of the population, the last
ones at full scale. The fitted values go to ``data/calibrated.yaml``; the fit report (every target with
its source, model value, tolerance and pass/fail) to ``data/fit_report.csv`` and ``docs/calibration.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from . import codes
from .model import BURN_IN_MONTHS, GMModel
from .output import summary
from .parameters import ParameterSet, calibrated_values, default_parameters, parameter_table, read_data
from .targets import load_targets

DATA_DIR = Path(__file__).resolve().parent / "data"
DOCS_DIR = Path(__file__).resolve().parents[1] / "docs"
#: Everything after this line of docs/calibration.md is written by hand and kept when the report is rewritten.
KEEP_MARKER = "<!-- Written by hand from here on: python -m gmsim.calibrate keeps it. -->"


@dataclass(frozen=True)
class Fit:
    """A group of parameters moved together to hit one target.

    Attributes:
        target: Key of the target (see ``load_targets``).
        parameters: Parameters scaled by the same factor.
        scale: ``log`` (counts, rates) or ``logit`` (shares) for the target.
        elasticity: Starting guess of d g(metric) / d log(theta).
    """

    target: str
    parameters: tuple[str, ...]
    scale: str
    elasticity: float


FITS = (
    Fit(
        "work_limiting_prevalence",
        ("onset_mental_health.base", "onset_musculoskeletal.base", "onset_other.base"),
        "logit",
        0.6,
    ),
    Fit("sickness_absence_starts", ("in_work_to_at_risk.base",), "log", 1.0),
    Fit("sickness_absence_job_loss_share", ("at_risk_to_out_of_work.base",), "logit", 0.8),
    Fit(
        "health_job_losses",
        (
            "in_work_to_out_of_work.severity.moderate",
            "in_work_to_out_of_work.severity.complex",
            "in_work_to_inactive.severity.moderate",
            "in_work_to_inactive.severity.complex",
        ),
        "log",
        0.5,
    ),
    Fit(
        "out_of_work_health",
        ("benefits.health_claim_take_up",),
        "log",
        0.8,
    ),
    Fit(
        "new_claimant_work_15m",
        ("out_of_work_to_in_work.benefit.limited_capability", "out_of_work_to_in_work.benefit.support_group"),
        "logit",
        0.6,
    ),
    Fit("out_of_work_jobseekers", ("out_of_work_to_in_work.base",), "log", -0.6),
    Fit("employment_rate", ("inactive_to_in_work.base",), "logit", 0.3),
) + tuple(
    Fit(
        f"employment_rate_{b}",
        (f"out_of_work_to_in_work.borough.{b}", f"inactive_to_in_work.borough.{b}"),
        "logit",
        0.4,
    )
    for b in codes.BOROUGHS
)


def _g(x: float, scale: str) -> float:
    x = min(max(x, 1e-9), 1 - 1e-9) if scale == "logit" else max(x, 1e-9)
    return float(np.log(x / (1 - x))) if scale == "logit" else float(np.log(x))


def measure(values: dict[str, float], scale: float, seed: int, months: int = 120) -> dict[str, float]:
    """Run the baseline with ``values`` and return every target's model value (window means)."""
    model = GMModel(scale=scale, months=months, rng=seed, parameters=values, calibrated=False)
    model.run(progress=False)
    checks = summary(model)["targets"]
    out = {k: v["model"] for k, v in checks.items()}
    window = summary(model)["window"]
    out["out_of_work_jobseekers"] = window["out_of_work"] - window["out_of_work_health"]
    return out


def target_values() -> dict[str, float]:
    """Target value per fit key (including the derived jobseeker stock)."""
    t = {x.key: x.value for x in load_targets()}
    t["out_of_work_jobseekers"] = t["out_of_work"] - t["out_of_work_health"]
    return t


def _gaps(got: dict[str, float], targets: dict[str, float], fits: tuple[Fit, ...]) -> np.ndarray:
    return np.array([_g(targets[f.target], f.scale) - _g(got[f.target], f.scale) for f in fits])


def _apply(values: dict[str, float], fits: tuple[Fit, ...], steps: np.ndarray) -> dict[str, float]:
    out = dict(values)
    defaults = default_parameters()
    for fit, step in zip(fits, steps, strict=True):
        for name in fit.parameters:
            if defaults[name].kind == "probability":  # stepped on the logit scale, so it stays inside 0..1
                x = float(np.clip(out[name], 1e-6, 1 - 1e-6))
                out[name] = float(1 / (1 + (1 - x) / x * np.exp(-step)))
            else:
                out[name] = float(out[name] * np.exp(step))
    _normalise_boroughs(out)
    return out


def jacobian(
    values: dict[str, float],
    scale: float,
    seed: int,
    fits: tuple[Fit, ...],
    base: dict[str, float],
    delta: float = 0.15,
) -> np.ndarray:
    """D g(target_j) / d log(theta_i) by forward differences (common random numbers keep it smooth)."""
    g0 = np.array([_g(base[f.target], f.scale) for f in fits])
    jac = np.zeros((len(fits), len(fits)))
    for i in range(len(fits)):
        steps = np.zeros(len(fits))
        steps[i] = delta
        got = measure(_apply(values, fits, steps), scale, seed)
        jac[:, i] = (np.array([_g(got[f.target], f.scale) for f in fits]) - g0) / delta
    return jac


def calibrate(
    iterations: int = 12,
    full_scale_iterations: int = 3,
    sample_scale: float = 0.1,
    seed: int = 1,
    verbose: bool = True,
    start_from_fit: bool = True,
) -> tuple[dict[str, float], dict[str, float]]:
    """Fit ``FITS``; return (fitted values, model values of the targets at the last run).

    The search starts from the last fit (``data/calibrated.yaml``) for the parameters it holds, or from
    ``parameters.yaml`` with ``start_from_fit=False``. The GM-level parameters (``CORE``) move together by
    damped (Levenberg-Marquardt) Newton steps with a Jacobian estimated
    by finite differences on the population sample; the borough ratios, which barely interact, by
    damped secant steps each.
    """
    defaults = default_parameters()
    values = {name: defaults[name].value for fit in FITS for name in fit.parameters}
    if start_from_fit:
        values.update({k: v for k, v in calibrated_values().items() if k in values})
    _normalise_boroughs(values)
    targets = target_values()
    core = tuple(f for f in FITS if not f.target.startswith("employment_rate_"))
    local = tuple(f for f in FITS if f.target.startswith("employment_rate_"))
    elasticity = {f.target: f.elasticity for f in local}
    prev: dict[str, tuple[float, float]] = {}
    jac = None
    got: dict[str, float] = {}
    total = iterations + full_scale_iterations
    for it in range(total):
        scale = sample_scale if it < iterations else 1.0
        t0 = time.perf_counter()
        got = measure(values, scale, seed)
        if jac is None or it == iterations // 2:
            jac = jacobian(values, scale, seed, core, got)
        gaps = _gaps(got, targets, core)
        core_steps = np.clip(0.8 * damped_newton_step(jac, gaps), -0.5, 0.5)
        local_steps = []
        for fit in local:
            log_theta = float(np.log(values[fit.parameters[0]]))
            g_model = _g(got[fit.target], fit.scale)
            if fit.target in prev and abs(log_theta - prev[fit.target][0]) > 1e-3:
                e = (g_model - prev[fit.target][1]) / (log_theta - prev[fit.target][0])
                if np.sign(e) == np.sign(fit.elasticity):
                    elasticity[fit.target] = float(np.clip(e, fit.elasticity / 5, fit.elasticity * 5))
            prev[fit.target] = (log_theta, g_model)
            gap = _g(targets[fit.target], fit.scale) - g_model
            local_steps.append(float(np.clip(0.8 * gap / elasticity[fit.target], -0.5, 0.5)))
        if verbose:
            worst = max(np.abs(gaps).max(), np.abs(_gaps(got, targets, local)).max())
            print(
                f"iteration {it + 1}/{total} (scale {scale:g}, {time.perf_counter() - t0:.1f} s): "
                f"largest gap on the fitting scale {worst:.4f}",
                flush=True,
            )
        if it < total - 1:
            values = _apply(values, core + local, np.concatenate([core_steps, local_steps]))
    return values, got


def damped_newton_step(jac: np.ndarray, gaps: np.ndarray, damping: float = 0.05) -> np.ndarray:
    """The Levenberg-Marquardt step: solve (J'J + damping x diag(J'J)) step = J' gaps.

    A parameter the targets barely move (a small column of ``jac``) then takes a small step rather than
    the huge one a plain Newton step would give it.
    """
    jtj = jac.T @ jac
    return np.linalg.solve(jtj + damping * np.diag(np.diag(jtj)) + 1e-9 * np.eye(len(gaps)), jac.T @ gaps)


def _normalise_boroughs(values: dict[str, float]) -> None:
    """Keep the borough ratios' population-weighted geometric mean at 1.

    The borough ratios then carry only the differences between boroughs, and the GM level stays with
    ``inactive_to_in_work.base`` (otherwise the two would trade off without end).
    """
    from .agents.people import borough_shares

    names = [f"out_of_work_to_in_work.borough.{b}" for b in codes.BOROUGHS]
    log_mean = float(np.dot(borough_shares(), np.log([values[n] for n in names])))
    for b in codes.BOROUGHS:
        for prefix in ("out_of_work_to_in_work", "inactive_to_in_work"):
            values[f"{prefix}.borough.{b}"] = float(values[f"{prefix}.borough.{b}"] * np.exp(-log_mean))


def fit_report(got: dict[str, float]) -> pd.DataFrame:
    """One row per target: description, source, target, tolerance, model value, pass/fail."""
    rows = []
    for t in load_targets():
        v = got[t.key]
        rows.append(
            {
                "target": t.key,
                "description": t.description,
                "source": t.source,
                "unit": t.unit,
                "target_value": t.value,
                "tolerance": t.tolerance,
                "model_value": round(v, 4),
                "passed": bool(abs(v - t.value) <= t.tolerance),
            }
        )
    return pd.DataFrame(rows)


def write(
    fitted: dict[str, float],
    report: pd.DataFrame,
    seed: int,
    extra: dict[str, float],
    data_dir: Path = DATA_DIR,
    docs_dir: Path = DOCS_DIR,
) -> None:
    """Write calibrated.yaml, fit_report.csv, docs/calibration.md and the table of docs/model.md section 8.1."""
    ParameterSet(fitted, calibrated=False)  # refuse to write anything invalid
    meta = {
        "description": "Values fitted by `python -m gmsim.calibrate`; they override parameters.yaml.",
        "fitted_on": time.strftime("%Y-%m-%d"),
        "seed": seed,
        "run": (
            f"baseline, 120 months after a {BURN_IN_MONTHS}-month burn-in, targets as means over months 13-120, "
            "final iterations at scale 1.0"
        ),
        "values": {k: float(f"{v:.6g}") for k, v in sorted(fitted.items())},
    }
    (data_dir / "calibrated.yaml").write_text(
        "# Generated by `python -m gmsim.calibrate`; do not edit by hand (edit parameters.yaml and refit).\n"
        + yaml.safe_dump(meta, sort_keys=False, width=110)
    )
    report.to_csv(data_dir / "fit_report.csv", index=False)
    lines = [
        "# Calibration fit report",
        "",
        "Generated by `python -m gmsim.calibrate` on " + meta["fitted_on"] + ": the baseline (no programmes) at "
        "full scale (1,781,000 people), 120 months, seed " + str(seed) + "; model values are means over months "
        "13-120. Sources are evidence ids in `gmsim/data/sources.yaml`.",
        "",
        "| target | source | target value | tolerance | model | pass |",
        "|---|---|---:|---:|---:|:---:|",
    ]
    for r in report.itertuples():
        lines.append(
            f"| {r.description} | `{r.source}` | {_num(r.target_value)} | ±{_num(r.tolerance)} | "
            f"{_num(r.model_value)} | {'yes' if r.passed else '**no**'} |"
        )
    lines += [
        "",
        "Borough targets are the APS 2013 employment rates shifted by one common amount so that their "
        "population-weighted mean is the GM rate of 72.4% (see `gmsim/targets.py`): the published ordering "
        "and gaps between boroughs are kept while the level is today's.",
        "",
        "## Checks the fit never sees",
        "",
        "Figures from the same full-scale run that no fitted parameter is chosen to match:",
        "",
        "| check | source | published | model |",
        "|---|---|---:|---:|",
        "| new health-related claimants in work 15 months on, who claimed straight from work | "
        f"`esa_rr774_return_rates` | 0.25 | {extra.get('from_work', float('nan')):.3f} |",
        f"| ... who claimed from out of work or inactivity | `esa_rr774_return_rates` | 0.09 | "
        f"{extra.get('not_from_work', float('nan')):.3f} |",
        f"| share of health-related claims that began 5+ years ago | `ib_caseload_5yr_plus_share_2008` | 0.56 | "
        f"{extra.get('long_spell_share', float('nan')):.3f} |",
        f"| inactive people with a moderate condition in work a year later (job entries a person-year) | "
        f"`lfs_health_inactive_into_work_2014` | 0.036 (inactive because of ill health) | "
        f"{extra.get('inactive_moderate', float('nan')):.3f} |",
        f"| ... with a complex condition | `lfs_health_inactive_into_work_2014` | 0.036 | "
        f"{extra.get('inactive_complex', float('nan')):.3f} |",
        *_borough_checks(extra),
        "RR774's split by previous work status is flatter in the model: nothing ties job entry to recent work or "
        "to a former employer, so the difference comes only from the two groups' composition (docs/model.md "
        "section 10). The caseload share is from the IB/SDA caseload of 2008, before ESA and UC added newer "
        "claims. The LFS figure is a share in work a year on (not a rate a person-year) for everyone inactive "
        "because of ill health, most of whom have a moderate or complex condition in gmsim's terms. The Census "
        "counts residents aged 16 and over who are inactive because long-term sick or disabled, in March 2021 "
        "(during furlough); the model's are the inactive aged 16-64 with a moderate or complex condition. The "
        "employment rates by age are UK figures for 2013 (DWP), the only ones found; GM's are not published in a "
        "readable form.",
        "",
        "## Fitted values",
        "",
        "The range is the plausible range stated in `parameters.yaml` before fitting; a fitted value outside it "
        "says the published flows it was taken from do not square with GM's stocks in this model structure "
        "(see the parameter's note).",
        "",
        "| parameter | starting value (parameters.yaml) | stated range | fitted | inside range |",
        "|---|---:|---:|---:|:---:|",
    ]
    defaults = default_parameters()
    for k, v in sorted(fitted.items()):
        d = defaults[k]
        if d.low is None:
            rng, inside = "-", "-"
        else:
            rng, inside = f"{d.low:.4g} - {d.high:.4g}", ("yes" if d.low <= v <= d.high else "**no**")
        lines.append(f"| `{k}` | {d.value:.4g} | {rng} | {v:.4g} | {inside} |")
    write_parameter_table(docs_dir / "model.md")
    doc = docs_dir / "calibration.md"
    kept = doc.read_text().partition(KEEP_MARKER) if doc.exists() else ("", "", "")
    tail = [KEEP_MARKER + kept[2].rstrip("\n")] if kept[1] else []
    doc.write_text("\n".join(lines + [""] + tail) + "\n")


def _borough_checks(extra: dict) -> list[str]:
    """Rows of the checks table: inactive with a work-limiting condition by borough, employment by age."""
    checks = read_data("checks.yaml")
    sick, by_age = checks["long_term_sick_by_borough"], checks["employment_rate_by_age"]
    rows = []
    model = extra.get("inactive_work_limiting", {})
    for b in codes.BOROUGHS:
        got = model.get(b, float("nan"))
        rows.append(
            f"| inactive because of a work-limiting condition, {b} | `c21_ltsd_{b.lower()}` | "
            f"{sick['value'][b]:,} | {got:,.0f} |"
        )
    total = sum(model.values()) if model else float("nan")
    rows.append(f"| ... Greater Manchester | `{sick['source']}` | {sum(sick['value'].values()):,} | {total:,.0f} |")
    model_by_age = extra.get("employment_by_age", {})
    for band, published in by_age["value"].items():
        rows.append(
            f"| employment rate aged {band} (end of run) | `{by_age['source']}` (UK 2013) | "
            f"{published} | {model_by_age.get(band, float('nan')):.3f} |"
        )
    return [*rows, ""]


def employment_by_age(model: GMModel) -> dict[str, float]:
    """Employment rate (in work or at risk) of the people at the end of a run, for ages 16-24, 25-49, 50-64."""
    p = model.people
    years = p.age_months // 12
    employed = p.state <= codes.AT_RISK
    out = {}
    for band, (lo, hi) in {"16-24": (16, 24), "25-49": (25, 49), "50-64": (50, 64)}.items():
        mine = (years >= lo) & (years <= hi)
        out[band] = float(employed[mine].mean())
    return out


def inactive_work_limiting(model: GMModel, first: int, last: int) -> dict[str, float]:
    """Mean people inactive with a moderate or complex condition by borough over months ``first..last``."""
    r = model.results
    stock = r.stock[first : last + 1, :, codes.INACTIVE].mean(axis=0) / r.scale  # (borough, health category)
    severity = np.array([0] + [sv for _ in codes.CONDITIONS[1:] for sv in (1, 2, 3)])
    limiting = severity >= codes.MODERATE
    return {b: float(stock[k, limiting].sum()) for k, b in enumerate(codes.BOROUGHS)}


def write_parameter_table(model_md: Path) -> None:
    """Rewrite the table of docs/model.md section 8.1 from the data files (``parameter_table()``)."""
    if not model_md.exists():
        return
    text = model_md.read_text()
    start = text.index("| parameter | value(s) | unit | range | source | calibrated | fitted |")
    end = text.index("\n\n", start)
    model_md.write_text(text[:start] + "\n".join(parameter_table()) + text[end:])


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(prog="python -m gmsim.calibrate", description=__doc__.split("\n")[0])
    p.add_argument("--iterations", type=int, default=12, help="iterations on a population sample")
    p.add_argument("--full-scale-iterations", type=int, default=3, help="final iterations at scale 1.0")
    p.add_argument("--sample-scale", type=float, default=0.1, help="scale of the sample iterations")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--report-only",
        action="store_true",
        help="fit nothing: check the values in data/calibrated.yaml at full scale and rewrite the reports",
    )
    args = p.parse_args(argv)
    if args.report_only:
        fitted = {k: v for k, v in calibrated_values().items() if k in {n for f in FITS for n in f.parameters}}
    else:
        fitted, _ = calibrate(args.iterations, args.full_scale_iterations, args.sample_scale, args.seed)
    # Final check with exactly the fitted values, at full scale.
    model = GMModel(scale=1.0, months=120, rng=args.seed, parameters=fitted, calibrated=False, record_transitions=True)
    model.run(progress=False)
    s = summary(model)
    entry = s["transition_rates"]["inactive_to_in_work"]
    got = {k: v["model"] for k, v in s["targets"].items()}
    report = fit_report(got)
    write(
        fitted,
        report,
        args.seed,
        {
            "from_work": s["cohorts"]["new_claimant_work_15m_from_work"],
            "not_from_work": s["cohorts"]["new_claimant_work_15m_not_from_work"],
            "long_spell_share": s["window"]["long_spell_share"],
            "inactive_moderate": entry["moderate"],
            "inactive_complex": entry["complex"],
            "inactive_work_limiting": inactive_work_limiting(model, 13, 120),
            "employment_by_age": employment_by_age(model),
        },
    )
    print(report.to_string(index=False))
    return 0 if report["passed"].all() else 1


if __name__ == "__main__":
    sys.exit(main())
