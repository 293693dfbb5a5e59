"""python -m benchmarks [--quick] [--out DIR]: run every case, write JSON and Markdown;
python -m benchmarks --compare OLD.json NEW.json: the change of every timing between two runs."""

import argparse
import os

from benchmarks.runner import run, to_markdown, write, write_docs


def main():
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smallest size of every case only")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"),
                        help="directory for the JSON and Markdown results")
    parser.add_argument("--stem", default="numba-backend", help="file name stem of the results")
    parser.add_argument("--compare", nargs=2, metavar=("OLD.json", "NEW.json"),
                        help="print the change of every timing between two results files "
                             "(runs nothing)")
    options = parser.parse_args()
    if options.compare:
        from benchmarks.compare import compare
        print(compare(*options.compare))
        return
    results = run(quick=options.quick)
    path = write(results, options.out, options.stem + ("-quick" if options.quick else ""))
    print(to_markdown(results))
    print(f"written: {path} (and .json)")
    if not options.quick and options.stem == "numba-backend":
        print(f"written: {write_docs(results)}")


main()
