"""Every primitive optiad knows, one record each (see core.py for the record and its rules).

Importing this package fills `REGISTRY`, which the tests iterate over: every primitive gets
derivative checks in both modes, so an op cannot be added untested.
"""

from optiad.primitives.core import REGISTRY, Primitive, Zero, bind, defprimitive  # noqa: F401
from optiad.primitives import elementwise, shape, reductions, linalg, control  # noqa: F401
