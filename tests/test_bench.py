"""The benchmark script runs (tiny sizes): it must not rot. Timings are not asserted."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_runs_and_writes_json(tmp_path):
    target = tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--sizes", "1", "40", "--features", "5",
         "--repeats", "15", "--settle", "0.01", "--json", str(target)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "| derive value_and_grad_ce |" in result.stdout
    assert "| numpy |" in result.stdout and "| X @ w |" in result.stdout
    document = json.loads(target.read_text())
    assert set(document["seconds"]) == set(document["first_call_seconds"]) == {"1", "40"}
    assert document["accuracy"]["derive value_and_grad_ce"]["loss"] < 1e-15
    assert document["accuracy"]["numpy"]["delta"] > 0.5  # σ(z) − y underflows at y = 1


def test_bench_refuses_too_few_repeats():
    result = subprocess.run([sys.executable, "-m", "bench", "--repeats", "3"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "at least 15" in result.stderr


def test_bench_refuses_a_settle_time_out_of_range():
    result = subprocess.run([sys.executable, "-m", "bench", "--settle", "-1"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--settle must be between 0 and 10" in result.stderr
