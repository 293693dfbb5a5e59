"""NIST StRD nonlinear regression problems (https://www.itl.nist.gov/div898/strd/nls/), read
from the original NIST files copied unchanged into tests/data/nist_strd/ (public domain; the
copies come from the lmfit-py repository's NIST_STRD directory).  Each file holds the model,
two starting points, the certified parameters with their standard deviations, the certified
residual sum of squares, and the data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data" / "nist_strd"


def _rational_cubic(b, x):
    return (b[0] + b[1] * x + b[2] * x ** 2 + b[3] * x ** 3) / \
        (1 + b[4] * x + b[5] * x ** 2 + b[6] * x ** 3)


MODELS = {   # the models as the NIST files state them
    "Bennett5": lambda b, x: b[0] * (b[1] + x) ** (-1 / b[2]),
    "BoxBOD": lambda b, x: b[0] * (1 - np.exp(-b[1] * x)),
    "Eckerle4": lambda b, x: (b[0] / b[1]) * np.exp(-0.5 * ((x - b[2]) / b[1]) ** 2),
    "MGH09": lambda b, x: b[0] * (x ** 2 + x * b[1]) / (x ** 2 + x * b[2] + b[3]),
    "Rat43": lambda b, x: b[0] / (1 + np.exp(b[1] - b[2] * x)) ** (1 / b[3]),
    "Thurber": _rational_cubic,
    "Misra1a": lambda b, x: b[0] * (1 - np.exp(-b[1] * x)),
    "Misra1b": lambda b, x: b[0] * (1 - (1 + b[1] * x / 2) ** (-2)),
    "Chwirut2": lambda b, x: np.exp(-b[0] * x) / (b[1] + b[2] * x),
    "DanWood": lambda b, x: b[0] * x ** b[1],
    "MGH10": lambda b, x: b[0] * np.exp(b[1] / (x + b[2])),
    "Rat42": lambda b, x: b[0] / (1 + np.exp(b[1] - b[2] * x)),
    "Kirby2": lambda b, x: (b[0] + b[1] * x + b[2] * x ** 2) / (1 + b[3] * x + b[4] * x ** 2),
    "Lanczos3": lambda b, x: b[0] * np.exp(-b[1] * x) + b[2] * np.exp(-b[3] * x) +
    b[4] * np.exp(-b[5] * x),
}


@dataclass
class Dataset:
    name: str
    starts: tuple            # (start 1, start 2)
    certified: np.ndarray
    standard_deviations: np.ndarray
    rss: float
    x: np.ndarray
    y: np.ndarray

    def residuals(self, b, x, y):
        return MODELS[self.name](b, x) - y


def load(name: str) -> Dataset:
    lines = (DATA / f"{name}.dat").read_text().splitlines()
    first, last = map(int, re.search(r"Data\s+\(lines\s+(\d+)\s+to\s+(\d+)\)",
                                      "\n".join(lines)).groups())
    rows = np.array([[float(v) for v in line.split()] for line in lines[first - 1:last]])
    parameters = [line.split("=")[1].split() for line in lines
                  if re.match(r"\s*b\d+\s*=", line)]
    values = np.array([[float(v) for v in p] for p in parameters])
    rss = float(next(line.split(":")[1] for line in lines
                     if line.startswith("Residual Sum of Squares")))
    return Dataset(name, (values[:, 0], values[:, 1]), values[:, 2], values[:, 3], rss,
                   rows[:, 1], rows[:, 0])


def log_relative_error(estimate, certified):
    """NIST's LRE: the number of correct significant digits (capped at 15)."""
    estimate, certified = np.asarray(estimate, float), np.asarray(certified, float)
    with np.errstate(divide="ignore"):
        lre = -np.log10(np.abs(estimate - certified) / np.abs(certified))
    return np.minimum(lre, 15.0)
