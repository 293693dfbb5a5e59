"""Every primitive optiad knows, one record each (see core.py for the record and its rules).

Importing this package fills `REGISTRY` with the array primitives; the control-flow primitive
(scan, in control.py: it sits with the transforms, whose rules it uses) and odeint (optiad/ode)
register themselves when `import optiad` imports them.  The tests iterate over the registry:
every primitive gets derivative checks in both modes, so an op cannot be added untested.
"""

from optiad.primitives.core import REGISTRY, Primitive, Zero, bind, defprimitive  # noqa: F401
from optiad.primitives import elementwise, shape, reductions, updates, linalg  # noqa: F401
from optiad.primitives import special, special_bessel, special_zeta  # noqa: F401,E402
# (the special functions after elementwise, whose primitives their rules use)
from optiad.primitives import einsum  # noqa: F401,E402  (after linalg, whose reasons it reads)
