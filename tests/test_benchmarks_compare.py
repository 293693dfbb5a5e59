"""python -m benchmarks --compare: every timing record of two results files side by side."""

import json

from benchmarks.compare import compare, timings

OLD = {"machine": {"cpus": 2}, "rows": [
    {"case": "grad", "size": 10, "tool": "optiad", "median_s": 1e-5},
    {"case": "grad", "size": 10, "tool": "jax", "median_s": 2e-5}]}
NEW = {"machine": {"cpus": 2}, "results": [
    {"case": "grad", "size": 10, "tools": {"optiad": {"median_s": 1.5e-5},
                                           "jax": {"median_s": 2e-5},
                                           "autograd": {"median_s": 1e-3}}}]}


def test_records_are_named_by_case_size_and_tool():
    assert timings(OLD) == {"case=grad / size=10 / optiad": 1e-5,
                            "case=grad / size=10 / jax": 2e-5}
    assert set(timings(NEW)) == {"case=grad / size=10 / optiad", "case=grad / size=10 / jax",
                                 "case=grad / size=10 / autograd"}


def test_changes_are_flagged(tmp_path):
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(OLD))
    new.write_text(json.dumps(NEW))
    table = compare(old, new).splitlines()
    row = {line.split(" | ")[0].lstrip("| "): line for line in table[2:]}
    assert "1.50x | slower" in row["case=grad / size=10 / optiad"]
    assert "1.00x |  |" in row["case=grad / size=10 / jax"]
    assert "absent" in row["case=grad / size=10 / autograd"]
