"""Compare two benchmark result files: `python -m benchmarks --compare OLD.json NEW.json`.

Works on every results file the benchmark modules write (benchmarks/results/*.json): each
timing record (a dict with "median_s") is named by the case, size and tool around it, and the
two files' records with the same name are set side by side with the change of their medians.
A change beyond +-20% is flagged, so a regression shows in review (never a failure: timings
on a shared machine drift).
"""

from __future__ import annotations

import json

FLAG = 1.2
CONTAINERS = ("rows", "results", "tools")


def timings(document) -> dict[str, float]:
    """{"case=... / size=... / tool": median seconds} for every timing record."""
    found: dict[str, float] = {}

    def walk(node, label):
        if isinstance(node, list):
            for item in node:
                walk(item, label)
            return
        if not isinstance(node, dict):
            return
        label = label + [f"{key}={node[key]}" for key in ("case", "size", "n") if key in node]
        if "tool" in node:
            label = label + [str(node["tool"])]
        if "median_s" in node:
            found[" / ".join(label)] = float(node["median_s"])
        for key, value in node.items():
            if key != "machine" and isinstance(value, (dict, list)):
                walk(value, label if key in CONTAINERS else label + [key])
    walk(document, [])
    return found


def _time(seconds):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def compare(old_path, new_path) -> str:
    with open(old_path) as stream:
        old = timings(json.load(stream))
    with open(new_path) as stream:
        new = timings(json.load(stream))
    lines = [f"| record | {old_path} | {new_path} | new / old | |", "|---|---|---|---|---|"]
    for name in sorted(set(old) | set(new)):
        if name not in old or name not in new:
            lines.append(f"| {name} | {_time(old[name]) if name in old else 'absent'} | "
                         f"{_time(new[name]) if name in new else 'absent'} | | |")
            continue
        change = new[name] / old[name] if old[name] > 0 else float("inf")
        flag = "slower" if change > FLAG else "faster" if change < 1 / FLAG else ""
        lines.append(f"| {name} | {_time(old[name])} | {_time(new[name])} | {change:.2f}x | "
                     f"{flag} |")
    return "\n".join(lines)
