"""Graph -> Numba: fused kernels, the plan around them, loops, the disk cache.

Importing the package registers the lowerings its modules provide (scan's native loop).
"""

from optiad.codegen import loop  # noqa: F401  (registers scan_p.numba_step)
