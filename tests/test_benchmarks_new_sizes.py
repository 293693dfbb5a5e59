"""The first-calls benchmark (benchmarks/new_sizes.py): its child processes measure what they
say, and the report and targets read the results.  Timing is not checked here."""

from benchmarks import new_sizes


def test_a_new_size_row_from_fresh_processes():
    row = new_sizes.new_size_row("exp_decay_jacobian", 100, (101, 102), peers=("optiad",))
    ours = row["tools"]["optiad"]
    assert len(ours["seconds"]) == 2 and all(s > 0 for s in ours["seconds"])
    # the timed process loaded the kernels of the base size and no other
    assert ours["kernel_modules"] == 1
    assert [t["what"] for t in row["targets"]] == ["first call at a new size <= 20 ms"]


def test_report_and_targets():
    results = {"new_sizes": [{"case": "rosenbrock_grad", "base": 100, "new_sizes": [101, 102],
                              "tools": {"optiad": {"seconds": [0.003, 0.002]},
                                        "jax": {"seconds": [0.06, 0.07]}},
                              "targets": [{"what": "first call at a new size <= 20 ms",
                                           "measured": 0.15, "met": True}]}],
               "import": {"median_s": 0.4, "min_s": 0.3, "runs": [0.3, 0.4, 0.5]},
               "readme": {"cold_s": 9.0, "warm_s": 1.0}}
    results["targets"] = new_sizes.targets(results)
    met = {t["what"]: t["met"] for t in results["targets"]}
    assert met == {"rosenbrock_grad 100 -> 101: first call at a new size <= 20 ms": True,
                   "import optiad <= 0.3 s": False,
                   "README's first command, cold cache <= 4.0 s": False,
                   "README's first command, warm cache <= 1.2 s": True}
    text = new_sizes.to_markdown(results)
    assert "| rosenbrock_grad | 100 -> 101, 102 | 3.0 ms, 2.0 ms | 60.0 ms, 70.0 ms | 0.050x |" \
        in text
    assert "cold cache 9.00 s, warm cache 1.00 s (median of 1)" in text
    assert "| import optiad <= 0.3 s | 1.33x | NO |" in text
