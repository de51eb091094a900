"""A run's tables as files: written column by column, the same text as pandas writes."""

import gzip

import numpy as np
import pandas as pd
import pytest

from gmsim.model import GMModel
from gmsim.output import dated, write_csv


@pytest.fixture(scope="module")
def tables():
    m = GMModel(scale=0.005, months=14, rng=3)
    m.run(progress=False)
    return {
        "timeseries": dated(m.results.timeseries(), m),
        "monthly": dated(m.results.monthly().round(4), m),
        "transitions": dated(m.results.transitions(), m),
        "pathways": dated(m.pathways.table(), m),
    }


@pytest.mark.parametrize("name", ["timeseries", "monthly", "transitions", "pathways"])
def test_a_run_s_tables_are_written_as_pandas_writes_them(tables, name, tmp_path):
    df = tables[name]
    assert len(df) > 10
    df.to_csv(tmp_path / "pandas.csv", index=False)
    write_csv(df, tmp_path / "ours.csv")
    assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()


def test_gzipped_tables_decompress_to_the_same_text_and_the_same_bytes_each_time(tables, tmp_path):
    df = tables["pathways"]
    df.to_csv(tmp_path / "pandas.csv", index=False)
    write_csv(df, tmp_path / "a.csv.gz", compresslevel=1)
    write_csv(df, tmp_path / "b.csv.gz", compresslevel=1)
    assert gzip.decompress((tmp_path / "a.csv.gz").read_bytes()) == (tmp_path / "pandas.csv").read_bytes()
    assert (tmp_path / "a.csv.gz").read_bytes() == (tmp_path / "b.csv.gz").read_bytes()


def test_missing_values_and_text_to_quote_are_written_as_pandas_writes_them(tmp_path):
    df = pd.DataFrame(
        {
            "month": [1, 2, 3],
            "label": ["a", "b, c", 'say "d"'],
            "share": [0.1, np.nan, 1 / 3],
            "kind": pd.Categorical(["x", None, "y"]),
            "flag": [True, False, True],
        }
    )
    for columns in (["month", "label"], ["month", "share"], ["month", "kind"], ["month", "flag"]):
        df[columns].to_csv(tmp_path / "pandas.csv", index=False)
        write_csv(df[columns], tmp_path / "ours.csv")
        assert (tmp_path / "ours.csv").read_text() == (tmp_path / "pandas.csv").read_text(), columns


def test_long_columns_formatted_once_a_value_are_written_as_pandas_writes_them(tmp_path):
    """Columns of 10,000 rows or more are formatted a distinct value at a time: the same text, -0.0 kept.

    (A float32 column goes to pandas, which writes the shortest text of the float32.)
    """
    rng = np.random.default_rng(3)
    n = 30_000
    df = pd.DataFrame(
        {
            "month": rng.integers(0, 121, n),
            "slot": rng.integers(0, 2**40, n),
            "age": rng.integers(192, 780, n).astype(np.int16),
            "count": rng.choice([0.0, -0.0, 1.0, 2.5, 1 / 3, 1e20, 123456.789], n),
            "share": rng.random(n).astype(np.float32),
            "flag": rng.random(n) < 0.5,
        }
    )
    for columns in (["month", "slot", "age", "count", "flag"], ["month", "share"]):
        df[columns].to_csv(tmp_path / "pandas.csv", index=False)
        write_csv(df[columns], tmp_path / "ours.csv")
        assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes(), columns
    write_csv(df[["count"]], tmp_path / "count.csv")
    assert "\n-0.0\n" in (tmp_path / "count.csv").read_text()
