"""Graph -> graph transforms (jvp, vjp, simplify) and the NumPy interpreter (evaluate)."""
