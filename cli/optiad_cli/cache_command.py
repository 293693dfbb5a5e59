"""`optiad cache info` and `optiad cache clear`: the kernel disk cache (optiad/codegen/cache.py),
its size against its limit ($OPTIAD_CACHE_MAX, optiad/codegen/cache_size.py), and emptying it.

main.py registers the `cache` group; this module looks up main.py's `reports_errors` when a
command runs, as main.py imports this one.
"""

from __future__ import annotations

import functools
import json
import os
import sys

import click
from rich.console import Console
from rich.table import Table

JSON = click.option("--json", "as_json", is_flag=True,
                    help="Print the numbers as JSON instead of a table.")


def _reporting(command):
    """main.reports_errors around the command body: optiad errors (a malformed
    OPTIAD_CACHE_MAX, a cache directory others can write) without a traceback, exit 2."""
    @functools.wraps(command)
    def run(*args, **kwargs):
        from optiad_cli.main import reports_errors
        return reports_errors(command)(*args, **kwargs)
    return run


def size_text(size: int | None) -> str:
    """Bytes for people: '254.1 MiB (266,432,512 bytes)'."""
    if size is None:
        return "no limit"
    value, unit = float(size), "bytes"
    for name in ("KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            break
        value, unit = value / 1024, name
    if unit == "bytes":
        return f"{size:,} bytes"
    return f"{value:.1f} {unit} ({size:,} bytes)"


def _console():
    return Console(highlight=False, width=None if sys.stdout.isatty() else 110)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cache():
    """Inspect or empty the disk cache of compiled kernels.

    The cache is $OPTIAD_CACHE_DIR/kernels, else the user cache directory's optiad/kernels.
    It is kept under $OPTIAD_CACHE_MAX (default 1G; bytes or K, M, G, T; 0: no limit) by
    deleting the least recently used kernels, down to 80% of the limit.

    \b
    Example:
      optiad cache info
      OPTIAD_CACHE_MAX=500M optiad cache info --json
      optiad cache clear
    """


@cache.command()
@JSON
@_reporting
def info(as_json):
    """Where the kernel cache is, its size and number of kernels, and the limit.

    Also what this process loaded and compiled: a command that runs no derivatives has
    nothing there; a program sees its own numbers through
    optiad.codegen.cache_size.cache_info().

    \b
    Example:
      optiad cache info
    """
    from optiad.codegen.cache_size import cache_info

    record = cache_info()
    if as_json:
        click.echo(json.dumps(record, indent=2))
        return
    table = Table(show_header=False, title="kernel cache", title_justify="left")
    table.add_column("what")
    table.add_column("value")
    table.add_row("location", record["directory"])
    table.add_row("size", size_text(record["bytes"]))
    table.add_row("kernels", f"{record['entries']:,}")
    if record["limit"] is None:
        table.add_row("limit", "none (OPTIAD_CACHE_MAX=0): nothing is ever deleted")
    else:
        source = "set by OPTIAD_CACHE_MAX" if os.environ.get("OPTIAD_CACHE_MAX", "").strip() \
            else "the default; OPTIAD_CACHE_MAX sets it"
        table.add_row("limit", f"{size_text(record['limit'])}, {source}")
        table.add_row("pruning", "least recently used kernels first, down to "
                                 f"{record['watermark']:.0%} of the limit")
    process = record["process"]
    if any(process.values()):
        table.add_row("this process", f"{process['modules']} kernel modules loaded, "
                                      f"{process['hits']} loaded from disk (hits), "
                                      f"{process['compiles']} compiled")
    else:
        table.add_row("this process", "no kernels loaded or compiled (this command runs none)")
    _console().print(table)


@cache.command()
@JSON
@_reporting
def clear(as_json):
    """Delete every compiled kernel in the cache and say how much space that freed.

    Safe while other optiad processes run: a kernel one of them is compiling or loading
    right now is kept (and counted); one they already loaded keeps working, and one they
    load later is compiled again.

    \b
    Example:
      optiad cache clear
    """
    from optiad.codegen.cache import cache_dir
    from optiad.codegen.cache_size import clear_cache

    directory = str(cache_dir())
    done = clear_cache()
    if as_json:
        click.echo(json.dumps({"directory": directory, **done}, indent=2))
        return
    console = _console()
    console.print(f"removed {_kernels(done['removed'])} from {directory}, freed "
                  f"{size_text(done['freed'])}", markup=False)
    if done["busy"]:
        console.print(f"kept {_kernels(done['busy'])} that another process is compiling or "
                      f"loading ({size_text(done['bytes'])} left)", markup=False)


def _kernels(count: int) -> str:
    return f"{count:,} kernel" + ("" if count == 1 else "s")
