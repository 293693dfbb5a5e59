"""OPTIAD_DEBUG printing, a leaf module every layer may use: 1 prints each traced graph, 2 also
each derivative graph, 3 also the generated plans and kernel source (on stderr)."""

from __future__ import annotations

import os
import sys


def debug_level() -> int:
    try:
        return int(os.environ.get("OPTIAD_DEBUG", "0") or 0)
    except ValueError:
        return 0


def debug_print(level: int, title: str, text) -> None:
    if debug_level() >= level:
        print(f"# optiad: {title}\n{text}", file=sys.stderr)
