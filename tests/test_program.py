"""The traced primal and adjoint programs: listing, recorded values, HTML and SVG."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autodiff_kit.numpy as anp
from autodiff_kit import grad, vjp
from autodiff_kit.program import Alias, Instruction, trace_program
from autodiff_kit.render import to_html, to_svg
from autodiff_kit.reverse import ReverseTrace, backward_pass
from autodiff_kit.testing import numerical_grad, numerical_jacobian


def logistic(x):
    return 4.0 * x * (1.0 - x)


def logistic3(x):
    for _ in range(3):
        x = logistic(x)
    return x


LOGISTIC_PRIMAL = [
    "v1:f64[] = mul 4.0 x",
    "v2:f64[] = sub 1.0 x",
    "v3:f64[] = mul v1 v2",
    "v4:f64[] = mul 4.0 v3",
    "v5:f64[] = sub 1.0 v3",
    "v6:f64[] = mul v4 v5",
    "v7:f64[] = mul 4.0 v6",
    "v8:f64[] = sub 1.0 v6",
    "v9:f64[] = mul v7 v8",
]


def listing_lines(program):
    return [line.strip() for line in str(program).splitlines()]


def engine_adjoints(f, args, cotangent):
    """The adjoint of every value on ``f``'s tape, by the engine's own ``reverse.backward_pass``.

    Sweeping only the part of the tape after value k, with k as the "input", leaves in k
    the sum of the contributions of all its uses: its adjoint, computed independently of
    ``trace_program``'s sweep.
    """
    with ReverseTrace() as trace:
        inputs = [trace.new_input(np.asarray(a, dtype=float)) for a in args]
        out = f(*inputs)
    tape = trace.take_tape()
    adjoints = []
    for k, node in enumerate(tape):
        (adjoint,) = backward_pass(tape[k + 1:], [(out, cotangent)], [node])
        for stale in tape + inputs:  # nodes before k received contributions and keep them
            stale.adjoint = None
        adjoints.append(np.zeros(node.shape) if adjoint is None else adjoint)
    return adjoints


def count_backward_primitives(f, args, cotangent):
    """How many primitives ``reverse.backward_pass`` applies for ``f``: record it on an outer tape."""
    with ReverseTrace() as outer:
        outer_inputs = [outer.new_input(np.asarray(a, dtype=float)) for a in args]
        with ReverseTrace() as inner:
            inner_inputs = [inner.new_input(node) for node in outer_inputs]
            out = f(*inner_inputs)
        tape = inner.take_tape()
        primal = len(outer.tape)
        backward_pass(tape, [(out, outer.new_input(np.asarray(cotangent, dtype=float)))], inner_inputs)
        return primal, len(outer.tape) - primal


# The worked example: the logistic map three times.


def test_logistic_listing_has_the_primal_program_then_the_adjoint_program_in_reverse():
    lines = listing_lines(trace_program(logistic3, 0.3))
    assert lines[0] == "primal program of logistic3(x:f64[])"
    assert lines[1:10] == LOGISTIC_PRIMAL
    assert lines[10] == "return v9"
    assert lines[11] == "adjoint program, seeded with g_v9:f64[] = 1.0"
    # each primal line, last first, heads the adjoint instructions its VJP rules ran
    headers = [line for line in lines[12:] if line.startswith("#")]
    assert headers == ["# " + line.replace(":f64[]", "", 1) for line in reversed(LOGISTIC_PRIMAL)]
    adjoint = [line for line in lines[12:] if not line.startswith("#")]
    assert adjoint[:3] == ["g_v7:f64[] = mul g_v9 v8", "g_v8:f64[] = mul v7 g_v9", "t1:f64[] = neg g_v8"]
    assert adjoint[-4:] == ["t5:f64[] = neg g_v2", "t6:f64[] = mul 4.0 g_v1",
                            "g_x:f64[] = add t5 t6", "return g_x"]
    # the adjoints of v8, v7, ..., v1 and x are defined in exactly that (reverse) order
    defined = [line.split(":")[0] for line in adjoint if line.startswith("g_")]
    assert defined == ["g_v7", "g_v8", "g_v6", "g_v4", "g_v5", "g_v3", "g_v1", "g_v2", "g_x"]


def test_logistic_adjoints_are_the_chain_rule_products_and_match_grad():
    """$\\bar v$ for v the result of an iteration is the product of L'(y) = 4 - 8y after it."""
    x = 0.3
    program = trace_program(logistic3, x)
    values, adjoints = program.values, program.adjoints
    slope = lambda y: 4.0 - 8.0 * y
    assert values["v3"] == logistic(x) and values["v9"] == logistic3(x)
    assert adjoints["v9"] == 1.0
    assert adjoints["v6"] == pytest.approx(slope(values["v6"]), rel=1e-14)
    assert adjoints["v3"] == pytest.approx(slope(values["v6"]) * slope(values["v3"]), rel=1e-14)
    expected = slope(values["v6"]) * slope(values["v3"]) * slope(x)
    assert adjoints["x"] == pytest.approx(expected, rel=1e-14)
    assert adjoints["x"] == grad(logistic3)(x)
    assert adjoints["v3"] == grad(lambda y: logistic(logistic(y)))(values["v3"])
    assert adjoints["x"] == pytest.approx(numerical_grad(logistic3, np.array(x)), rel=1e-7)
    # the names in the listing hold the same numbers
    for name in ["x", "v1", "v3", "v6", "v8"]:
        assert values[f"g_{name}"] == adjoints[name]


def test_logistic_has_one_instruction_per_primitive_applied():
    """Three primitives per step forwards; backwards two for mul, one neg, one mul, one add."""
    program = trace_program(logistic3, 0.3)
    assert (len(program.primal), len(program.adjoint)) == (9, 15)
    assert len(program.instructions) == 24
    assert count_backward_primitives(logistic3, [0.3], 1.0) == (9, 15)
    assert [i.op for i in program.adjoint].count("add") == 3  # x, v3 and v6 are each used twice


# Every recorded value is the real one.


def mlp_loss(W1, b1, W2, x, y):
    h = anp.tanh(W1 @ x + b1)
    return anp.mean((W2 @ h - y) ** 2) + 0.1 * anp.sum(W1 * W1)


@pytest.mark.parametrize("seed", [0, 1])
def test_every_adjoint_equals_the_engines_and_the_inputs_match_vjp_and_finite_differences(seed):
    rng = np.random.default_rng(seed)
    args = [rng.standard_normal((4, 3)), rng.standard_normal(4), rng.standard_normal((2, 4)),
            rng.standard_normal(3), rng.standard_normal(2)]
    program = trace_program(mlp_loss, *args)
    expected = engine_adjoints(mlp_loss, args, np.ones(()))
    assert len(expected) == len(program.primal)
    for instruction, adjoint in zip(program.primal, expected, strict=True):
        np.testing.assert_allclose(program.adjoints[instruction.out], adjoint, rtol=1e-13, atol=1e-15)
        if f"g_{instruction.out}" in program.values:
            np.testing.assert_array_equal(program.values[f"g_{instruction.out}"],
                                          program.adjoints[instruction.out])
    _, vjp_fn = vjp(mlp_loss, *args)
    for name, given, cotangent in zip(program.inputs, args, vjp_fn(1.0), strict=True):
        np.testing.assert_allclose(program.values[f"g_{name}"], cotangent, rtol=1e-13)
        assert program.values[f"g_{name}"].shape == given.shape
    for i, name in enumerate(program.inputs):
        def of_one(a, i=i):
            return mlp_loss(*args[:i], a, *args[i + 1:])
        np.testing.assert_allclose(program.adjoints[name], numerical_grad(of_one, args[i]), rtol=1e-6,
                                   atol=1e-8)
    assert count_backward_primitives(mlp_loss, args, 1.0) == (len(program.primal), len(program.adjoint))


def test_every_instruction_value_is_what_its_primitive_gives_on_its_operands():
    """Re-run each line of both programs from the recorded values: the listing is the program."""
    rng = np.random.default_rng(3)
    args = [rng.standard_normal((4, 3)), rng.standard_normal(4), rng.standard_normal((2, 4)),
            rng.standard_normal(3), rng.standard_normal(2)]
    program = trace_program(mlp_loss, *args)
    values = program.values

    def operand(text):
        return values[text] if text in values else float(text)

    for instruction in program.instructions:
        result = instruction.primitive(*map(operand, instruction.operands), **dict(instruction.params))
        np.testing.assert_array_equal(result, values[instruction.out], err_msg=str(instruction))


# Reuse, constants, zero adjoints, outputs.


def test_a_value_used_twice_gets_the_sum_of_its_adjoints():
    program = trace_program(lambda a: (a + a) + (a + a), 1.5)  # the graph of DESIGN.md
    lines = listing_lines(program)
    assert "g_v1:f64[] = g_v3" in lines  # add hands its cotangent on: no primitive runs
    sums = [i for i in program.adjoint if i.op == "add"]
    assert [i.out for i in sums] == ["t1", "t2", "g_a"]
    assert program.values["g_a"] == 4.0 == grad(lambda a: (a + a) + (a + a))(1.5)

    program = trace_program(lambda x: anp.sin(x) * x, 0.7)
    last = program.adjoint[-1]
    assert (last.out, last.op) == ("g_x", "add")
    parts = [program.values[name] for name in last.operands]
    assert sum(parts) == program.values["g_x"] == pytest.approx(np.cos(0.7) * 0.7 + np.sin(0.7))


def test_numpy_constants_are_declared_once_and_scalars_written_inline():
    c = np.array([1.0, 2.0, 3.0])
    program = trace_program(lambda x: anp.sum(anp.sin(x) * c) * 2.0, np.ones(3))
    lines = listing_lines(program)
    assert lines[1] == "const c1:f64[3] = [1. 2. 3.]"
    assert "v2:f64[3] = mul v1 c1" in lines and "v4:f64[] = mul v3 2.0" in lines
    assert "g_v1:f64[3] = mul g_v2 c1" in lines  # the VJP of v1 * c uses the same constant
    assert program.values["c1"] is c
    np.testing.assert_allclose(program.adjoints["x"], 2.0 * c * np.cos(np.ones(3)))


def test_an_input_the_output_ignores_has_a_zero_cotangent():
    program = trace_program(lambda x, y: anp.sum(x**2), np.ones(3), np.ones(2))
    lines = listing_lines(program)
    assert "g_y:f64[2] = 0  # the output does not depend on y" in lines
    assert lines[-1] == "return g_x, g_y"
    np.testing.assert_array_equal(program.adjoints["y"], np.zeros(2))
    np.testing.assert_array_equal(program.values["g_x"], 2.0 * np.ones(3))
    constant = trace_program(lambda x: 5.0, 2.0)
    assert constant.primal == () and constant.adjoint == ()
    assert listing_lines(constant)[1] == "return 5.0" and constant.adjoints["x"] == 0.0


def test_a_non_scalar_output_needs_a_cotangent():
    f = lambda x: anp.sin(x) * 2.0
    with pytest.raises(TypeError, match=r"shape \(3,\).*cotangent=.*Only a scalar output"):
        trace_program(f, np.ones(3))
    with pytest.raises(TypeError, match=r"a tuple of 2 values.*cotangent="):
        trace_program(lambda x: (x, x * 2.0), 1.0)
    with pytest.raises(ValueError, match="shape"):
        trace_program(f, np.ones(3), cotangent=np.ones(2))
    u, x = np.array([1.0, -2.0, 0.5]), np.array([0.1, 0.2, 0.3])
    program = trace_program(f, x, cotangent=u)
    assert listing_lines(program)[4] == "adjoint program, seeded with g_v2:f64[3] = [ 1. -2. 0.5]"
    np.testing.assert_allclose(program.adjoints["x"], vjp(f, x)[1](u)[0])
    np.testing.assert_allclose(program.adjoints["x"], u @ numerical_jacobian(f, x), rtol=1e-8)


def test_pytree_inputs_and_outputs():
    params = {"W": np.arange(6.0).reshape(2, 3) / 10, "b": [np.ones(2)]}
    x = np.array([0.5, -1.0, 2.0])

    def f(p, x):
        h = anp.tanh(p["W"] @ x + p["b"][0])
        return h, anp.sum(h)

    cotangent = (np.array([1.0, 2.0]), 3.0)
    program = trace_program(f, params, x, cotangent=cotangent)
    assert program.inputs == ("p.W", "p.b[0]", "x")
    assert listing_lines(program)[-1] == "return g_p.W, g_p.b[0], g_x"
    assert program.outputs == ("v3", "v4")
    expected = vjp(f, params, x)[1](cotangent)
    got = program.input_cotangents
    assert set(got[0]) == {"W", "b"} and isinstance(got[0]["b"], list)
    np.testing.assert_allclose(got[0]["W"], expected[0]["W"], rtol=1e-13)
    np.testing.assert_allclose(got[0]["b"][0], expected[0]["b"][0], rtol=1e-13)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-13)


def test_settings_are_listed_in_brackets_and_defaults_left_out():
    program = trace_program(lambda x: anp.sum(anp.mean(x, axis=0)), np.ones((2, 3)))
    lines = listing_lines(program)
    assert "v1:f64[3] = mean[axis=0] x" in lines and "v2:f64[] = sum v1" in lines
    assert "g_v1:f64[3] = broadcast_to[shape=(3,)] g_v2" in lines
    assert "t1:f64[1,3] = reshape[shape=(1, 3)] g_v1" in lines
    assert all(isinstance(line, (Instruction, Alias)) for step in program.steps for line in step.lines)


def test_trace_program_refuses_traced_inputs():
    with pytest.raises(TypeError, match="outside grad"):
        grad(lambda x: trace_program(lambda y: y * y, x).values["v1"])(1.0)


# HTML and SVG.


def test_html_is_well_formed_with_one_svg_node_per_value_and_escaped_text():
    def f(p):
        x = p["x<&>"]
        return anp.sum(anp.exp(x) * x * x)

    f.__name__ = "loss<&>"
    program = trace_program(f, {"x<&>": np.array([0.1, 0.2])})
    assert program.inputs == ("p['x<&>']",)
    html = program._repr_html_()
    assert "loss&lt;&amp;&gt;" in html and "<&" not in html
    root = ET.fromstring(html)  # the whole block is XML, so the SVG inside is too
    svg = root.find(".//{http://www.w3.org/2000/svg}svg")
    assert svg is not None
    nodes = [g for g in svg.iter("{http://www.w3.org/2000/svg}g") if "node" in g.get("class", "").split()]
    instructions = [g for g in nodes if "input" not in g.get("class")]
    assert [g.get("data-var") for g in instructions] == [i.out for i in program.primal]
    assert len(nodes) == len(program.inputs) + len(program.primal) == 5
    edges = [p for p in svg.iter("{http://www.w3.org/2000/svg}path") if p.get("class") == "edge"]
    assert len(edges) == 6  # x to v1, v2 and v3; v1 to v2; v2 to v3; v3 to v4
    assert root.find(".//pre").text == str(program)  # escaped, and nothing lost
    texts = "".join(svg.itertext())
    assert "v2 = mul v1 p['x<&>']" in texts and "p['x<&>']  (input)" in texts


def test_svg_shows_values_and_adjoints_and_lambda_names_escape():
    program = trace_program(lambda x: x * x, 3.0)
    svg = to_svg(program)
    ET.fromstring(svg)
    assert "&lt;lambda&gt;" in svg and "<lambda>" not in svg
    texts = list(ET.fromstring(svg).itertext())
    assert "val 9.0" in texts and "adj 6.0" in texts  # x: value 3, adjoint 6; v1: 9 and 1
    assert to_html(program).count("<svg") == 1
