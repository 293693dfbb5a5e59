"""Every ```python block in README.md and docs/*.md runs (blocks of one file share a namespace)."""

import pathlib
import re

import pytest

from optiad.primitives import REGISTRY

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_examples_run(page):
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    before = set(REGISTRY)
    namespace = {"__name__": f"docs_{page.stem}"}
    try:
        for block in blocks:
            exec(compile(block, str(page), "exec"), namespace)
    finally:
        for name in set(REGISTRY) - before:    # primitives a page defines are its own
            del REGISTRY[name]


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
