"""Smoke run of the directory benchmark (bench/directory.py) on a tiny data set: it builds its database, searches,
and prints one row of figures per size."""

from bench.directory import main


def test_directory_benchmark_runs_and_prints_figures(capsys):
    rows = main(["5", "12"])
    out = capsys.readouterr().out
    assert "Directory search, median ms" in out and "near_250km_ms" in out
    assert [r["n"] for r in rows] == [5, 12]
    for row in rows:
        assert all(row[k] >= 0 for k in ("baseline_count_ms", "near_50km_ms", "near_250km_ms", "everyone_ms",
                                          "api_250km_ms"))
        assert 0 <= row["matches_250km"] <= row["n"]
