"""Forward mode: carry a tangent beside every value, through each primitive's JVP.

For $y = f(x)$ and a direction $\\dot x$, each primitive $v_k = p_k(v_{\\text{args}})$ maps
its arguments' tangents to $\\dot v_k = \\sum_i \\partial_i p_k \\, \\dot v_i$, so the output
carries $\\dot y = J_f \\dot x$ when the program ends. Nothing is stored: the cost is a
constant factor on $f$ and the memory is that of $f$ itself.
"""

from __future__ import annotations

from autodiff_kit.numpy.methods import ArrayTracer
from autodiff_kit.tracing import Primitive, Trace, Tracer


class TangentTracer(ArrayTracer):
    """A traced value in forward mode: the primal ``value`` and its ``tangent``."""

    __slots__ = ("tangent",)

    def __init__(self, value, trace, tangent) -> None:
        Tracer.__init__(self, value, trace)
        self.tangent = tangent


class ForwardTrace(Trace):
    """A forward-mode trace: pushes tangents through each primitive as it runs."""

    def record(self, primitive: Primitive, ans, values: list, unwrapped: list, kwargs: dict) -> TangentTracer:
        if primitive.jvp is None:
            raise TypeError(f"{primitive.__name__} has no forward-mode (JVP) rule.")
        tangents = [None] * len(values)
        for i, tracer in unwrapped:
            tangents[i] = tracer.tangent
        return TangentTracer(ans, self, primitive.jvp(tangents, ans, *values, **kwargs))
