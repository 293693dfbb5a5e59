"""Every ```python block in README.md and docs/*.md runs (blocks of one file share a namespace),
and prints what the ```output block after it shows."""

import contextlib
import doctest
import io
import pathlib
import re

import pytest

from optiad.primitives import REGISTRY

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


# a ```python block, optionally followed (blank lines between) by an ```output block holding
# what it prints; compared like a doctest (whitespace normalized, "..." matches anything)
BLOCK = re.compile(r"```python\n(.*?)```(?:\s*```output\n(.*?)```)?", flags=re.S)
CHECKER = doctest.OutputChecker()
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_examples_run(page):
    before = set(REGISTRY)
    namespace = {"__name__": f"docs_{page.stem}"}
    try:
        for number, (block, shown) in enumerate(BLOCK.findall(page.read_text()), start=1):
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                exec(compile(block, f"{page} (block {number})", "exec"), namespace)
            if shown and not CHECKER.check_output(shown, printed.getvalue(), FLAGS):
                raise AssertionError(f"{page.name}, block {number} printed:\n"
                                     f"{printed.getvalue()}\nbut the page shows:\n{shown}")
    finally:
        for name in set(REGISTRY) - before:    # primitives a page defines are its own
            del REGISTRY[name]


def test_output_blocks_follow_python_blocks():
    for page in PAGES:
        text = page.read_text()
        assert text.count("```output") == sum(1 for _, shown in BLOCK.findall(text) if shown), \
            f"{page.name}: an ```output block that does not follow a ```python block"


def test_every_package_directory_is_installed():
    import tomllib
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "optiad").rglob("__init__.py")}
    assert found <= listed, f"add to pyproject.toml [tool.setuptools] packages: {found - listed}"


def test_ci_runs_the_readme_commands():
    readme = (ROOT / "README.md").read_text()
    commands = re.search(r"## Set up and run\n\n```bash\n(.*?)```", readme, flags=re.S).group(1)
    ci = (ROOT / ".ci" / "run").read_text()
    for line in commands.strip().splitlines():
        assert line in ci.splitlines(), f".ci/run does not run the README command: {line}"


def test_optiad_commands_in_the_docs_run(tmp_path):
    """Every `optiad ...` line of a ```bash block in the guide runs and exits 0 (in a scratch
    folder that sees the repository's problems/, so files they write land there)."""
    import subprocess
    import sys

    (tmp_path / "problems").symlink_to(ROOT / "problems")
    script = pathlib.Path(sys.executable).parent / "optiad"
    commands = [line.split("#")[0].strip() for page in PAGES
                for block in re.findall(r"```bash\n(.*?)```", page.read_text(), flags=re.S)
                for line in block.splitlines() if line.startswith("optiad ")]
    assert commands, "no optiad commands found in the docs"
    for command in commands:
        arguments = command.split()[1:]
        done = subprocess.run([str(script), *arguments, *(["-q"] if arguments[0] == "solve"
                                                          else [])],
                              cwd=tmp_path, capture_output=True, text=True, timeout=600,
                              check=False)
        assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
