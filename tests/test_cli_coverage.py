"""What docs/problem-files.md promises, mapped to the tests that would fail if it broke: every
documented key of every section, every option of every command, every exit status of every
command.  The test below reads the page, so a key, option or status added to the page without
a test here fails, and so does an entry naming a test that does not exist (or a stale entry
for something the page no longer documents).

Entries are "file::test" or "file::test[parameter id]".  The zoo tests (test_cli_zoo.py,
every problem in problems/ solved to its certified values) are named only where they add to a
fast test here.
"""

from __future__ import annotations

import importlib
import itertools
import re

from cli_helpers import ROOT
from optiad_cli.schema import SCHEMA

PAGE = ROOT / "docs" / "problem-files.md"
MALFORMED = "test_cli_errors.py::test_malformed_problem_exits_2_with_a_message"
KEYS_TESTS = "test_cli_keys.py::"
KINDS_TESTS = "test_cli_kinds.py::"
RK4 = KINDS_TESTS + "test_rk4_steps_from_t0_and_a_fixed_initial_state"
TRANSFORMS = KINDS_TESTS + "test_each_residual_transform_fits_like_scipy_on_the_exact_solution"
CLASSIFY = KINDS_TESTS + "test_classify_fits_like_a_hand_written_loss"
SIGMA = KEYS_TESTS + "test_sigma_weights_the_fit_like_curve_fit"
METADATA = KEYS_TESTS + "test_name_is_shown_and_defaults_to_the_folder"
TRACE = "test_cli.py::test_trace_prints_the_program_and_its_derivatives"
COLUMNS = KEYS_TESTS + "test_model_file_residuals_and_columns_in_the_order_given"
BOUNDS = KEYS_TESTS + "test_bounds_hold_the_fit_at_an_active_bound"
FUNCTIONS = KEYS_TESTS + "test_data_and_start_from_functions_in_the_model_file"
FIT_JSON = "test_cli.py::test_json_result_is_complete"
CHECK = "test_cli_check.py::"
CHECK_BACKEND = CHECK + "test_check_takes_the_backend_from_the_file_and_the_flag_overrides_it"

KEYS = {
    ("problem", "kind"): [MALFORMED + "[wrong-kind]", MALFORMED + "[missing-kind]", "test_cli.py::"
                          "test_check_says_why_sympy_and_complex_step_are_unavailable"],
    ("problem", "name"): [METADATA],
    ("problem", "description"): [METADATA],       # notes for the reader: accepted, not used
    ("problem", "source"): [METADATA],
    ("model", "file"): [COLUMNS, MALFORMED + "[missing-model-file]"],
    ("model", "objective"): [CHECK + "test_a_wrong_gradient_rule_makes_check_exit_1", TRACE],
    ("model", "residuals"): [COLUMNS],
    ("model", "curve"): [FIT_JSON, SIGMA],
    ("model", "rhs"): [RK4, TRANSFORMS],
    ("model", "logits"): [CLASSIFY],
    ("data", "file"): [FIT_JSON, MALFORMED + "[missing-data-file]"],
    ("data", "function"): [FUNCTIONS, MALFORMED + "[data-function-not-dict]"],
    ("data", "columns"): [COLUMNS],
    ("data", "x"): [SIGMA],
    ("data", "y"): [SIGMA, MALFORMED + "[column-not-in-data]"],
    ("data", "sigma"): [SIGMA],
    ("parameters", "start"): [CHECK + "test_check_reads_the_start_when_no_point_is_given",
                              FUNCTIONS, MALFORMED + "[missing-start]"],
    ("parameters", "repeat"): [TRACE],             # rosenbrock: [-1.2, 1] x 500 is f64[1000]
    ("parameters", "names"): [FIT_JSON, MALFORMED + "[names-count]"],
    ("parameters", "lower"): [BOUNDS, MALFORMED + "[start-outside-bounds]"],
    ("parameters", "upper"): [BOUNDS],
    ("ode", "observed"): [RK4, TRANSFORMS],
    ("ode", "time"): [RK4],
    ("ode", "initial"): [RK4, TRANSFORMS],       # a fixed number; a fitted parameter
    ("ode", "t0"): [RK4],
    ("ode", "method"): [RK4, "test_cli_zoo.py::test_zoo_problem_is_solved[robertson]"],
    ("ode", "rtol"): [KINDS_TESTS + "test_rtol_and_atol_reach_the_ode_solver"],
    ("ode", "atol"): [KINDS_TESTS + "test_rtol_and_atol_reach_the_ode_solver"],
    ("ode", "steps"): [RK4],
    ("ode", "residuals"): [TRANSFORMS],
    ("classify", "features"): [CLASSIFY],
    ("classify", "label"): [CLASSIFY],
    ("classify", "l2"): [CLASSIFY],
    ("solver", "method"): [KEYS_TESTS + "test_method_from_the_file_and_from_the_flag"],
    ("solver", "options"): ["test_cli.py::test_not_converged_exits_1",
                            MALFORMED + "[unknown-option]"],
    ("solver", "per_method"): [KEYS_TESTS + "test_per_method_options_apply_to_their_method"],
    ("solver", "backend"): [KEYS_TESTS + "test_backend_from_the_file_and_from_the_flag",
                            CHECK_BACKEND],
    ("expected", "parameters"): ["test_cli.py::test_expected_solution_missed_exits_1",
                                 MALFORMED + "[expected-length]"],
    ("expected", "standard_errors"): [SIGMA + "[standard_errors]"],
    ("expected", "objective"): [SIGMA + "[objective]"],
    ("expected", "digits"): [KEYS_TESTS + "test_digits_sets_the_agreement_required"],
    ("expected", "accuracy"): [KINDS_TESTS + "test_expected_accuracy_is_a_floor"],
    ("expected", "source"): [METADATA],
    ("output", "json"): [KEYS_TESTS + "test_output_section_writes_next_to_the_problem_file"],
    ("output", "plot"): [KEYS_TESTS + "test_output_section_writes_next_to_the_problem_file"],
}

OPTIONS = {
    ("solve", "--method"): [KEYS_TESTS + "test_method_from_the_file_and_from_the_flag",
                            MALFORMED + "[unknown-method]"],
    ("solve", "--backend"): [KEYS_TESTS + "test_backend_from_the_file_and_from_the_flag",
                             "test_cli_zoo.py::test_zoo_problem_is_solved"
                             "[rosenbrock --backend numba]"],
    ("solve", "--json"): [FIT_JSON],
    ("solve", "--plot"): ["test_cli.py::test_plot_of_a_fit_and_of_a_minimization"],
    ("solve", "-q"): ["test_cli.py::test_quiet_prints_no_progress"],
    ("check", "--at"): [CHECK + "test_check_at_comma_separated_numbers_uses_that_point",
                        CHECK + "test_check_at_a_result_file_uses_its_solution",
                        MALFORMED + "[check-at-wrong-count]"],
    ("check", "--backend"): [CHECK_BACKEND,
                             CHECK + "test_check_on_the_numba_backend_agrees_with_sympy"],
    ("check", "--repeats"): [CHECK + "test_repeats_sets_how_often_each_way_is_timed",
                             CHECK + "test_repeats_must_be_positive"],
    ("trace", "--grad"): [TRACE],
    ("trace", "--hvp"): [TRACE],
    ("trace", "--jvp"): [TRACE],
    ("trace", "--residuals"): [TRACE, "test_cli_errors.py::test_trace_misuse_exits_2"],
    ("trace", "--source"): ["test_cli.py::test_trace_source_shows_the_generated_numba_code"],
}

INTERNAL = "test_cli_errors.py::test_internal_error_exits_3"
EXIT_STATUSES = {
    ("solve", 0): ["test_cli.py::test_solve_prints_named_parameters_with_standard_errors"],
    ("solve", 1): ["test_cli.py::test_not_converged_exits_1",
                   "test_cli.py::test_expected_solution_missed_exits_1"],
    ("solve", 2): [MALFORMED, "test_cli_errors.py::test_generated_malformed_files_exit_2"],
    ("solve", 3): [INTERNAL + "[solve-plain]", INTERNAL + "[solve-OPTIAD_DEBUG]"],
    ("check", 0): [CHECK + "test_a_correct_model_marks_no_row"],
    ("check", 1): [CHECK + "test_a_wrong_derivative_rule_makes_check_exit_1_and_shows_where",
                   CHECK + "test_a_wrong_gradient_rule_makes_check_exit_1"],
    ("check", 2): [CHECK + "test_ad_that_cannot_run_is_an_error_not_agreement",
                   MALFORMED + "[check-at-wrong-count]",
                   "test_cli_errors.py::test_real_command_prints_no_traceback"],
    ("check", 3): [INTERNAL + "[check-plain]"],
    ("trace", 0): [TRACE],
    ("trace", 2): ["test_cli_errors.py::test_trace_misuse_exits_2"],
    ("trace", 3): [INTERNAL + "[trace-plain]"],
}
# trace neither solves nor compares, so it has no status 1
STATUSES_OF = {"solve": {0, 1, 2, 3}, "check": {0, 1, 2, 3}, "trace": {0, 2, 3}}


def documented_keys(page: str) -> set:
    """(section, key) for every key in the first column of each `### [section]` table."""
    keys = set()
    for section, body in re.findall(r"^### `\[(\w+)\]`.*?\n(.*?)(?=^##|\Z)", page,
                                    flags=re.MULTILINE | re.DOTALL):
        for first_cell in re.findall(r"^\| ([^|]+) \|", body, flags=re.MULTILINE):
            keys |= {(section, key) for key in re.findall(r"`([a-z_0-9]+)`", first_cell)}
    return keys


def documented_options(page: str) -> set:
    commands = re.search(r"## The commands\n+```\n(.*?)```", page, flags=re.DOTALL).group(1)
    options = set()
    for line in commands.splitlines():
        command = line.split()[1]
        options |= {(command, o) for o in re.findall(r"(--[a-z]+|-q)\b", line)}
    return options


def documented_statuses(page: str) -> set:
    sentence = re.search(r"Exit status: (.*?)\.\n\n", page + "\n\n", flags=re.DOTALL).group(1)
    return {int(s) for s in re.findall(r"(?:^|;\s+)(\d) ", sentence)}


def parameter_ids(function) -> set:
    """The ids pytest gives a parametrized test (its marks, closest decorator first)."""
    combined = [""]
    for mark in getattr(function, "pytestmark", []):
        if mark.name != "parametrize":
            continue
        ids = mark.kwargs.get("ids") or ["-".join(map(str, v)) if isinstance(v, tuple)
                                         else str(v) for v in mark.args[1]]
        combined = [f"{c}-{i}" if c else str(i) for c, i in itertools.product(combined, ids)]
    return set(combined)


def resolves(reference: str) -> bool:
    file, test = reference.split("::")
    name, _, parameter = test.partition("[")
    function = getattr(importlib.import_module(file.removesuffix(".py")), name, None)
    if function is None or not name.startswith("test_"):
        return False
    return not parameter or parameter.rstrip("]") in parameter_ids(function)


def test_every_documented_key_option_and_exit_status_has_a_test():
    page = PAGE.read_text()
    keys = documented_keys(page)
    assert keys == {(s, k) for s, section in SCHEMA.items() for k in section}, \
        "docs/problem-files.md and the schema list different keys"
    assert set(KEYS) == keys, f"keys without a test: {sorted(keys - set(KEYS))}; " \
                              f"entries for undocumented keys: {sorted(set(KEYS) - keys)}"
    options = documented_options(page)
    assert len(options) >= 12 and set(OPTIONS) == options, sorted(options ^ set(OPTIONS))
    statuses = documented_statuses(page)
    assert statuses == {0, 1, 2, 3}
    expected = {(c, s) for c, applies in STATUSES_OF.items() for s in statuses & applies}
    assert set(EXIT_STATUSES) == expected, sorted(expected ^ set(EXIT_STATUSES))
    for table in (KEYS, OPTIONS, EXIT_STATUSES):
        for what, references in table.items():
            missing = [r for r in references if not resolves(r)]
            assert references and not missing, f"{what}: no such test {missing}"
