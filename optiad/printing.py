"""Graph -> text, one equation per line, in the style of JAX's jaxprs:

    { lambda a:f64[3] b:f64[3,3] .
      c:f64[3] = matmul b a
      d:f64[] = reduce_sum[axes=(0,) keepdims=False] c
      in d }

Variables are named a, b, ..., z, ba, bb, ... in order of definition.  Literals print inline
when small (2.0, [1.0,2.0]) and as `const:f64[1000]` when large.
"""

from __future__ import annotations

import string

import numpy as np

# A leaf below ir.py (which imports this module for Graph.__str__): atoms are read by their
# attributes -- a Literal is the atom that has a `value`.
DTYPE_NAMES = {np.dtype(np.float64): "f64", np.dtype(np.bool_): "bool", np.dtype(np.int64): "i64"}


def type_string(atom) -> str:
    dims = ",".join(str(d) for d in atom.shape)
    return f"{DTYPE_NAMES.get(atom.dtype, str(atom.dtype))}[{dims}]"


def _is_literal(atom) -> bool:
    return hasattr(atom, "value")


def _names():
    letters = string.ascii_lowercase
    n = 0
    while True:
        name, k = "", n
        while True:
            name = letters[k % 26] + name
            k = k // 26
            if k == 0:
                break
        # skip names that read like keywords of the format
        if name not in ("in", "let"):
            yield name
        n += 1


def _format_literal(literal) -> str:
    value = literal.value
    if value.ndim == 0:
        return repr(value.item())
    if value.size <= 4:
        return "[" + ",".join(repr(v) for v in value.ravel().tolist()) + "]"
    return f"const:{type_string(literal)}"


def format_param(value) -> str:
    if isinstance(value, slice):
        parts = ["" if v is None else str(v) for v in (value.start, value.stop, value.step)]
        return ":".join(parts[:2]) + (f":{parts[2]}" if value.step is not None else "")
    if isinstance(value, tuple):
        inner = ",".join(format_param(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if value is Ellipsis:
        return "..."
    if isinstance(value, float):
        return repr(value)
    return str(value)


def graph_to_text(graph) -> str:
    """The graph one equation per line; a guarded trace (a Python `if` on a traced value)
    follows with its guard program, which shares the input names."""
    names, fresh = {}, _names()
    text = _text(graph, names, fresh)
    guard = getattr(graph, "guard", None)
    if guard is None:
        return text
    return (f"{text}\nguards: the program above is the function where this gives 1.0 (the "
            f"branches taken at the traced call):\n{_text(guard, names, fresh)}")


def _text(graph, names, fresh) -> str:

    def name(atom):
        if _is_literal(atom):
            return _format_literal(atom)
        if id(atom) not in names:
            names[id(atom)] = next(fresh)
        return names[id(atom)]

    header = " ".join(f"{name(v)}:{type_string(v)}" for v in graph.invars)
    lines = [f"{{ lambda {header} ."]
    for eqn in graph.eqns:
        params = ""
        if eqn.params:
            params = "[" + " ".join(f"{k}={format_param(v)}" for k, v in eqn.params.items()) + "]"
        args = " ".join(name(a) for a in eqn.inputs)
        out = name(eqn.out)
        lines.append(f"  {out}:{type_string(eqn.out)} = {eqn.primitive.name}{params} {args}")
    outs = ", ".join(name(a) for a in graph.outvars)
    if graph.out_tree == "tuple":      # ir.OutTree.TUPLE (a str enum; ir sits above)
        outs = f"({outs})"
    lines.append(f"  in {outs} }}")
    return "\n".join(lines)


__all__ = ["graph_to_text", "format_param", "type_string"]
