"""python -m benchmarks [--quick]: the whole suite (derivatives, whole optimizer and
least-squares runs, ODE gradients, Python branches, sparse derivatives, many solves on local
processes and a Dask LocalCluster, cold and warm first calls) with every installed peer;
results in benchmarks/results/suite.{json,md} and docs/benchmarks.md (full runs), or
suite-quick.* (--quick: small sizes, a few minutes).  Exit status 1 if a case raised or a
derivative's error exceeds its tolerance (never because of time).

python -m benchmarks --compare OLD.json NEW.json: the change of every timing between two runs.
"""

import argparse
import sys

from benchmarks.suite import failures, run_suite, write


def main():
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes of every case; for CI (under 3 minutes)")
    parser.add_argument("--compare", nargs=2, metavar=("OLD.json", "NEW.json"),
                        help="print the change of every timing between two results files "
                             "(runs nothing)")
    options = parser.parse_args()
    if options.compare:
        from benchmarks.compare import compare
        print(compare(*options.compare))
        return 0
    results = run_suite(quick=options.quick)
    path = write(results, "suite-quick" if options.quick else "suite", docs=not options.quick)
    with open(path) as handle:
        print(handle.read())
    print(f"written: {path} (and .json)" + ("" if options.quick else "; docs/benchmarks.md"))
    found = failures(results)
    for failure in found:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if found else 0


sys.exit(main())
