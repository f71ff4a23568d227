"""`gradus bench`: hands its arguments to `python -m benchmarks` of the source checkout."""
from __future__ import annotations

import pytest

from gradus.cli import main as cli


def test_bench_help_is_the_benchmark_runners(capfd):
    assert cli.main(["bench", "--help"]) == 0                   # --help reaches python -m benchmarks
    out = capfd.readouterr().out
    assert "python -m benchmarks" in out and "--runs" in out


def test_bench_unknown_workload_is_a_usage_error(capfd):
    assert cli.main(["bench", "Z"]) == 2
    assert "unknown workload(s) ['Z']" in capfd.readouterr().err


def test_bench_outside_a_source_checkout_says_where_the_benchmarks_are(monkeypatch, capsys):
    monkeypatch.setattr(cli, "benchmarks_dir", lambda: None)
    assert cli.main(["bench"]) == 2
    err = capsys.readouterr().err
    assert "gradus bench: error:" in err and "source repository" in err and "Traceback" not in err


def test_benchmarks_dir_is_this_checkout():
    folder = cli.benchmarks_dir()
    assert folder is not None and (folder / "workloads.py").is_file()


@pytest.mark.parametrize("argv", [["bench", "--runs", "0"], ["bench", "A", "--threads", "0"]])
def test_bench_bad_counts_are_usage_errors(argv, capfd):
    assert cli.main(argv) == 2
    assert "must be >= 1" in capfd.readouterr().err
