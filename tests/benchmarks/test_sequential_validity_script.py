"""scripts/sequential_validity.py prints the README's four tables, the null rows within alpha."""

import importlib.util
import re
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "sequential_validity.py"


def test_the_script_prints_validity_power_and_partial_credit_tables(capsys):
    spec = importlib.util.spec_from_file_location("sequential_validity_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--runs", "150", "--null-budget", "60", "--null-n", "30"]) == 0
    out = capsys.readouterr().out
    for title in ("type-I error", "power and episodes", "larger gaps", "Partial credit"):
        assert title in out
    nulls = re.findall(r"^\| 0\.\d\d \| (0\.\d+) ± (0\.\d+) \|", out, re.M)
    assert len(nulls) == 5
    assert all(float(rate) <= 0.05 + 3 * float(error) + 0.02 for rate, error in nulls)
