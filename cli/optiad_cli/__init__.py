"""The `optiad` command line: solve, check and trace problems described in TOML files.

    main.py       the click commands and the exit statuses (0 ok, 1 not converged, 2 user error)
    schema.py     the problem-file schema and its checks (docs/problem-files.md describes it)
    loading.py    model file, CSV data, generated data: user mistakes become ProblemError
    problem.py    Problem.load: the file made runnable, one builder per problem kind
    run.py        solving with the chosen method; judging against the expected solution
    many.py       solve --starts N (multistart) and several files, on any executor
    many_report.py  their summary tables and --json records
    progress.py   live progress (rich) and the history
    report.py     result tables and the atomic --json file
    plotting.py   --plot (matplotlib, Agg)
    checking.py   `check` (AD vs finite differences, complex step, sympy) and `trace`
    symbolic.py   a traced program as sympy formulas, for `check`
"""

from optiad_cli.main import main

__all__ = ["main"]
