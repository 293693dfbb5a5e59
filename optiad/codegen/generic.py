"""Shape-generic kernel source: array sizes become run-time values read from the arguments.

The generator writes a kernel for the concrete shapes of one trace (loop bounds, buffer
shapes, offsets and strides are numbers in its text).  `generic_source` then rewrites every
integer constant that equals an argument's dimension -- or a simple expression of those
dimensions: one more or less, a product of two -- as that expression, with the dimensions
bound at the top of the kernel (`dim0 = a1.shape[0]`).  The same model traced at another
size then generates the same text, so the disk cache (keyed by the text) and the Numba
dispatcher (specialized on dtypes and dimension counts, not sizes) serve it without a compile.

Why rewriting the text is safe: every expression substituted for a number evaluates, on the
arguments of this very trace, to that number, so the rewritten kernel computes exactly what the
concrete one did for this trace.  Two traces share machine code only when their rewritten texts
are identical, and each text is correct for its own trace -- hence for both.  A number that
happens to equal a dimension without being one (an exponent, a constant array's length) is
rewritten too, harmlessly: at another size it no longer matches, the text differs, and the
kernel compiles on its own.  The cost of a coincidence is a cache miss, never a wrong result.

A kernel that divides by a size (an index map of a reshape or a roll) is left as generated;
see _DIVISOR.  Dimensions below GENERIC_MIN_SIZE stay numbers: small parameter vectors, tiny matrices and the
unrolled sweeps keep their constant trip counts, which LLVM unrolls and folds.  Those kernels
specialize per size, as the issue allows ("below a small size").  Float constants that are a
dimension, or a small integer divided by one (a mean's 1/n, its derivative's 2/n), are
rewritten the same way.
"""

from __future__ import annotations

import re

# Dimensions of at least this many elements are run-time values in kernel text.
GENERIC_MIN_SIZE = 16
# n - OFFSETS .. n + OFFSETS: sizes of slices like x[1:], x[:-2] and of padded arrays
OFFSETS = 3
# c / n for 0 < c <= MAX_NUMERATOR: float constants made from a size (a mean's 1/n, 2/n)
MAX_NUMERATOR = 4

# An integer constant: not part of a name (a12), a float (1.5, 2e-10) or an attribute.
_INTEGER = re.compile(r"(?<![\w.])(?<![eE][-+])\d+(?![\w.])")
# A divisor (// s, % d: reshape and roll index maps).  Division by a constant compiles to a
# multiply, by a run-time value to a division instruction ten times slower, so a kernel that
# divides by a size stays as generated: all numbers, specialized to its sizes.  Half-generic
# text would compile per size anyway (its divisors differ) and ran a Brusselator's Jacobian
# 1.3-1.7x slower (run-time strides and trip counts around the constant divisors).
_DIVISOR = re.compile(r"(?://|%) (\d+)(?![\w.])")
# A float constant as scalar.literal writes it (repr of a Python float, maybe parenthesized).
_FLOAT = re.compile(r"(?<![\w.])(?<![eE][-+])\d+\.\d*(?:[eE][-+]?\d+)?(?![\w.])|"
                    r"(?<![\w.])(?<![eE][-+])\d+[eE][-+]?\d+(?![\w.])")


def dimension_names(arguments) -> tuple[list[str], dict[int, str]]:
    """Bindings for the dimensions of `arguments` ((name, shape) pairs, in order) and a map
    from each size that may be rewritten to its expression (direct dimensions first, then
    n +- offset, then products of two dimensions)."""
    bindings, direct = [], {}
    for name, shape in arguments:
        for axis, size in enumerate(shape or ()):
            if size >= GENERIC_MIN_SIZE and size not in direct:
                symbol = f"dim{len(direct)}"
                direct[size] = symbol
                bindings.append(f"{symbol} = {name}.shape[{axis}]")
    expressions = dict(direct)
    for offset in range(1, OFFSETS + 1):
        for size, symbol in direct.items():
            for value, text in ((size - offset, f"({symbol} - {offset})"),
                                (size + offset, f"({symbol} + {offset})")):
                if value >= GENERIC_MIN_SIZE:
                    expressions.setdefault(value, text)
    symbols = list(direct.items())
    for k, (first, first_symbol) in enumerate(symbols):
        for second, second_symbol in symbols[k:]:
            expressions.setdefault(first * second, f"({first_symbol} * {second_symbol})")
    return bindings, expressions


def generic_source(lines: list[str], arguments) -> tuple[list[str], list[str]]:
    """(binding lines, rewritten lines): `lines` of a kernel body with sizes as expressions
    of the arguments' dimensions; the bindings go first in the body.

    >>> generic_source(["for i0 in range(99):", "    b[i0] = (a[i0 + 1] - a[i0]) * 0.01"],
    ...                [("a", (100,))])
    (['dim0 = a.shape[0]'], ['for i0 in range((dim0 - 1)):', '    b[i0] = (a[i0 + 1] - a[i0]) * (1.0 / dim0)'])
    """
    bindings, expressions = dimension_names(arguments)
    if not expressions or any(int(divisor) in expressions for line in lines
                              for divisor in _DIVISOR.findall(line)):
        return [], list(lines)
    fractions: dict[float, str] = {}

    def fraction(value):
        """c / n for a small integer c: a mean's 1/n, and 2/n once its derivative is folded
        (built on the first float constant: most kernels have none)."""
        if not fractions:
            fractions.update({c / size: f"({float(c)!r} / {text})"
                              for size, text in expressions.items()
                              for c in range(MAX_NUMERATOR, 0, -1)})
        return fractions.get(value)

    def integer(match):
        value = int(match.group())
        return expressions.get(value, match.group()) if value >= GENERIC_MIN_SIZE else \
            match.group()

    def floating(match):
        value = float(match.group())
        if value >= GENERIC_MIN_SIZE and value == int(value) and int(value) in expressions:
            return f"float({expressions[int(value)]})"
        return (fraction(value) if 0.0 < value < 1.0 else None) or match.group()

    rewritten = [_INTEGER.sub(integer, _FLOAT.sub(floating, line)) for line in lines]
    used = "\n".join(rewritten)
    return [b for b in bindings if re.search(rf"\b{b.split(' ')[0]}\b", used)], rewritten
