"""autodiff_kit.widgets: the pure functions behind the lectures' views, and the thin ipywidgets
wrappers around them, driven from Python as the front end would (by setting slider values)."""

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import ipywidgets
import numpy as np
import pytest

import autodiff_kit.numpy as anp
from autodiff_kit import chain, grad, layers, trace_program, widgets
from autodiff_kit.render import summary
from autodiff_kit.tree import tree_flatten

CHAINS = [
    [2, 3],
    [2, 3, 4, 1],
    [1, 4, 3, 2],
    [784, 256, 256, 10],
    [1000, 10, 1000, 10, 1000],
    [100, 1, 100, 1, 100],
    [5, 5, 5, 5, 5, 5, 5],
]


def random_chains(count=20, seed=0):
    rng = np.random.default_rng(seed)
    return [list(rng.integers(1, 60, size=rng.integers(2, 8))) for _ in range(count)]


class ClassTexts(HTMLParser):
    """The text inside each element that has a class, by class: ``{"adk-forward-flops": ["1,000"]}``."""

    def __init__(self, html):
        super().__init__()
        self.open, self.texts = [], {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.open.append((tag, dict(attrs).get("class", "").split()))

    def handle_endtag(self, tag):
        _, classes = self.open.pop()
        for name in classes:
            self.texts.setdefault(name, [""])
            self.texts[name].append("")

    def handle_data(self, data):
        for _, classes in self.open:
            for name in classes:
                self.texts.setdefault(name, [""])
                self.texts[name][-1] += data

    def text(self, css_class):
        found = [t for t in self.texts.get(css_class, []) if t]
        assert len(found) == 1, f"expected one element with class {css_class}, found {found}"
        return found[0]


# --- ordering_report --------------------------------------------------------------------


@pytest.mark.parametrize("dims", CHAINS + random_chains(), ids=str)
def test_report_flops_and_storage_are_the_chain_models(dims):
    report = widgets.ordering_report(dims)
    optimal_flops, optimal_tree = chain.optimal_order(dims)
    assert report.dims == tuple(dims)
    assert report["forward"].flops == chain.chain_flops(dims, "forward")
    assert report["reverse"].flops == chain.chain_flops(dims, "reverse")
    assert report["optimal"].flops == optimal_flops
    assert report["optimal"].tree == optimal_tree
    assert report["forward"].tree == chain.forward_tree(len(dims) - 1)
    assert report["reverse"].tree == chain.reverse_tree(len(dims) - 1)
    assert report["forward"].stored == chain.stored_activations(dims, "forward")
    assert report["reverse"].stored == chain.stored_activations(dims, "reverse")
    assert report["optimal"].stored is None
    assert report.optimal.flops <= min(report.forward.flops, report.reverse.flops)


def test_report_names_an_unknown_order():
    with pytest.raises(KeyError, match="forward"):
        widgets.ordering_report([2, 3])["mixed"]


class Recorded:
    """A matrix stand-in whose ``@`` records each product's shapes: (a, b, c) for (a, b) @ (b, c)."""

    def __init__(self, shape, log):
        self.shape, self.log = shape, log

    def __matmul__(self, other):
        assert self.shape[1] == other.shape[0], "the formula multiplies matrices that do not chain"
        self.log.append((self.shape[0], self.shape[1], other.shape[1]))
        return Recorded((self.shape[0], other.shape[1]), self.log)


def products_of_formula(text, dims):
    """Evaluate a formula such as ``(J4 (J3 J2)) J1`` on recording matrices: the products it makes."""
    log = []
    names = {f"J{k + 1}": Recorded((dims[k + 1], dims[k]), log) for k in range(len(dims) - 1)}
    expression = re.sub(r"(?<=[\w)]) (?=[\w(])", " @ ", text)
    assert set(re.findall(r"J\d+", expression)) == set(names), expression
    eval(expression, {"__builtins__": {}}, names)  # only names J1..JL, parentheses and @
    return log


@pytest.mark.parametrize("dims", CHAINS + random_chains(seed=1), ids=str)
def test_the_formula_and_largest_block_are_those_of_the_bracketing(dims):
    for order in widgets.ORDERS:
        cost = widgets.ordering_report(dims)[order]
        products = products_of_formula(cost.formula, dims)
        assert len(products) == len(dims) - 2
        assert sum(a * b * c for a, b, c in products) == cost.flops
        assert cost.largest == max((a * c for a, _, c in products), default=0)


def test_formula_of_known_bracketings():
    assert widgets.formula(0) == "J1"
    assert widgets.formula(chain.forward_tree(4)) == "J4 (J3 (J2 J1))"
    assert widgets.formula(chain.reverse_tree(4)) == "((J4 J3) J2) J1"
    assert widgets.formula(((3, 2), (1, 0))) == "(J4 J3) (J2 J1)"


def test_a_long_chain_is_walked_without_recursion():
    dims = [2] * 5001
    assert widgets.formula(chain.forward_tree(5000)).startswith("J5000 (J4999 (")
    assert widgets.largest_product(dims, chain.reverse_tree(5000)) == 4


@pytest.mark.parametrize("dims", [[784, 256, 256, 10], [1000, 10, 1000, 10, 1000], [3, 1]], ids=str)
def test_report_html_shows_each_number_under_its_class(dims):
    report = widgets.ordering_report(dims)
    texts = ClassTexts(widgets.to_html(report))
    for order in widgets.ORDERS:
        cost = report[order]
        assert texts.text(f"adk-{order}-flops") == f"{cost.flops:,}"
        assert texts.text(f"adk-{order}-largest") == f"{cost.largest:,}"
    assert texts.text("adk-forward-stored") == f"{report.forward.stored:,}"
    assert texts.text("adk-reverse-stored") == f"{report.reverse.stored:,}"
    assert texts.text("adk-optimal-stored") == "—"
    assert texts.text("adk-bracketing") == report.optimal.formula
    assert report._repr_html_() == widgets.to_html(report)


@pytest.mark.parametrize("dims, says", [
    ([1000, 10, 1000, 10, 1000], "2.94× fewer flops than the better pure mode (30,000,000)"),
    ([784, 256, 256, 10], "as cheap as reverse mode."),
    ([5, 5, 5], "as cheap as forward mode and reverse mode."),
])
def test_report_html_compares_the_optimal_order_with_the_pure_ones(dims, says):
    assert says in widgets.to_html(widgets.ordering_report(dims))


def test_report_prints_as_a_table():
    text = str(widgets.ordering_report([1000, 10, 1000, 10, 1000]))
    assert "forward      30,000,000" in text
    assert "optimal      10,200,000" in text
    assert text.rstrip().endswith("(J4 (J3 J2)) J1")


@pytest.mark.parametrize("dims", CHAINS, ids=str)
def test_bracketing_svg_is_well_formed_with_a_box_per_factor_and_product(dims):
    report = widgets.ordering_report(dims)
    svg = widgets.bracketing_svg(dims, report.optimal.tree)
    root = ET.fromstring(svg)
    groups = [g.get("class") for g in root.iter("{http://www.w3.org/2000/svg}g")]
    assert groups.count("adk-factor") == len(dims) - 1
    assert groups.count("adk-product") == len(dims) - 2
    assert root.find("{http://www.w3.org/2000/svg}title").text == report.optimal.formula


# --- backward_steps ---------------------------------------------------------------------


def logistic3(x):
    for _ in range(3):
        x = 4.0 * x * (1.0 - x)
    return x


def reused(a, unused):
    b = a + a
    c = b * b
    return anp.sum(c * anp.sin(a))


X_MOONS = np.array([[0.1, 0.5], [1.2, -0.3], [-0.7, 0.9], [0.4, 0.0]])
LABELS = np.array([0, 1, 0, 1])


def mlp_loss(params):
    return layers.mlp_loss(params, X_MOONS, LABELS)


PROGRAMS = {
    "logistic3": (logistic3, (0.3,)),
    "reused": (reused, (np.array([0.5, -1.0, 2.0]), np.ones(2))),
    "mlp": (mlp_loss, (layers.init_mlp([2, 3, 2], rng=0),)),
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_backward_steps_visit_every_adjoint_in_reverse_order(name):
    f, args = PROGRAMS[name]
    program = trace_program(f, *args)
    steps = list(widgets.backward_steps(program))
    assert [step.name for step in steps] == list(reversed(list(program.adjoints)))
    assert [step.index for step in steps] == list(range(len(steps)))
    primal = {instruction.out: instruction for instruction in program.primal}
    for step in steps:
        assert np.array_equal(step.adjoint, program.adjoints[step.name]), step.name
        assert np.shape(step.adjoint) == np.shape(program.values[step.name])
        assert step.primal is primal.get(step.name)
        assert (step.primal is None) == (step.name in program.inputs)
    # The steps hold the adjoint program's lines, once each and in the order they ran.
    step_lines = [line for step in steps for line in step.lines]
    program_lines = [line for step in program.steps for line in step.lines]
    assert step_lines == [line for line in program_lines if line in step_lines]
    assert set(program.adjoint) <= set(step_lines)


@pytest.mark.parametrize("name", PROGRAMS)
def test_backward_steps_end_with_the_gradient(name):
    f, args = PROGRAMS[name]
    program = trace_program(f, *args)
    by_step = {step.name: step.adjoint for step in widgets.backward_steps(program)}
    gradients, _ = tree_flatten(grad(f, argnums=tuple(range(len(args))))(*args))
    assert len(gradients) == len(program.inputs)
    for input_name, expected in zip(program.inputs, gradients, strict=True):
        np.testing.assert_allclose(by_step[input_name], expected, rtol=1e-12, atol=1e-15)


def test_an_input_the_output_ignores_gets_a_zero_adjoint_last():
    program = trace_program(reused, np.array([0.5, -1.0, 2.0]), np.ones(2))
    steps = list(widgets.backward_steps(program))
    assert steps[0].name == program.primal[-1].out
    assert [s.name for s in steps[-2:]] == ["unused", "a"]
    assert np.array_equal(steps[-2].adjoint, np.zeros(2))


def test_a_value_used_twice_has_the_sum_of_both_contributions():
    program = trace_program(lambda x: x * x, 3.0)
    first, second = widgets.backward_steps(program)
    assert (first.name, float(first.adjoint)) == ("v1", 1.0)
    assert (second.name, float(second.adjoint)) == ("x", 6.0)
    assert [str(line) for line in first.lines] == ["t1:f64[] = mul g_v1 x", "t2:f64[] = mul x g_v1",
                                                   "g_x:f64[] = add t1 t2"]
    assert "step 2: g_x = 6.0" in str(second)


def test_step_html_outlines_the_current_value_and_shows_the_adjoints_so_far():
    program = trace_program(logistic3, 0.3)
    steps = list(widgets.backward_steps(program))
    html = widgets.step_html(program, steps, 2)
    texts = ClassTexts(html)
    assert texts.text("adk-current-adjoint") == f"g_{steps[2].name} = {summary(steps[2].adjoint, 200)}"
    assert f"Step 3 of {len(steps)}" in html
    for step in steps[:3]:
        assert f'g.node[data-var="{step.name}"] text:last-of-type {{ visibility: visible; }}' in html
    for step in steps[3:]:
        assert f'data-var="{step.name}"] text:last-of-type {{ visibility: visible' not in html
    assert f'g.node[data-var="{steps[2].name}"] rect {{ stroke' in html
    assert texts.text("adk-adjoints-so-far").count("g_") == 3


# --- The ipywidgets wrappers ------------------------------------------------------------

def explorer_parts(explorer):
    depth, width_box, report = explorer.children
    return depth, list(width_box.children), report


def test_accumulation_explorer_updates_the_cost_when_a_width_moves():
    explorer = widgets.accumulation_explorer([784, 256, 256, 10], max_width=1024, max_depth=5)
    assert isinstance(explorer, ipywidgets.VBox)
    depth, sliders, report = explorer_parts(explorer)
    assert isinstance(depth, ipywidgets.IntSlider) and isinstance(report, ipywidgets.HTML)
    assert "adk-ordering-report" in report._dom_classes
    assert [s._dom_classes for s in sliders] == [(f"adk-width-{k}",) for k in range(6)]
    assert report.value == widgets.to_html(widgets.ordering_report([784, 256, 256, 10]))
    before = ClassTexts(report.value).text("adk-forward-flops")

    sliders[1].value = 32  # what the front end does when the slider moves
    assert report.value == widgets.to_html(widgets.ordering_report([784, 32, 256, 10]))
    after = ClassTexts(report.value).text("adk-forward-flops")
    assert after != before and after == f"{chain.chain_flops([784, 32, 256, 10], 'forward'):,}"


def test_accumulation_explorer_depth_shows_and_hides_widths():
    explorer = widgets.accumulation_explorer([10, 20, 30], max_depth=4)
    depth, sliders, report = explorer_parts(explorer)
    assert [s.layout.display for s in sliders] == [None, None, None, "none", "none"]
    depth.value = 4
    assert [s.layout.display for s in sliders] == [None] * 5
    assert report.value == widgets.to_html(widgets.ordering_report([10, 20, 30, 30, 30]))
    sliders[4].value = 1
    assert ClassTexts(report.value).text("adk-bracketing") == widgets.ordering_report([10, 20, 30, 30, 1]) \
        .optimal.formula
    depth.value = 1
    assert report.value == widgets.to_html(widgets.ordering_report([10, 20]))


@pytest.mark.parametrize("dims, message", [([5], "2 to 7"), ([5, 2000], "max_width"), ([0, 3], "max_width")])
def test_accumulation_explorer_refuses_dims_it_cannot_show(dims, message):
    with pytest.raises(ValueError, match=message):
        widgets.accumulation_explorer(dims)


def test_backward_stepper_moves_through_the_steps():
    program = trace_program(mlp_loss, layers.init_mlp([2, 3, 2], rng=0))
    steps = list(widgets.backward_steps(program))
    stepper = widgets.backward_stepper(program)
    assert isinstance(stepper, ipywidgets.VBox)
    slider, view = stepper.children
    assert (slider.min, slider.max, slider.value) == (1, len(steps), 1)
    assert "adk-step" in slider._dom_classes and "adk-backward-step" in view._dom_classes
    shown = []
    for value in range(1, len(steps) + 1):
        slider.value = value
        shown.append(ClassTexts(view.value).text("adk-current-adjoint"))
    assert shown == [f"g_{s.name} = {summary(s.adjoint, 200)}" for s in steps]


# --- Missing optional dependencies, and the loss plot -----------------------------------


def test_importing_the_module_loads_neither_ipywidgets_nor_matplotlib():
    code = ("import sys, autodiff_kit.widgets as w; w.ordering_report([3, 2, 1]); "
            "print('ipywidgets' in sys.modules, 'matplotlib' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_a_missing_ipywidgets_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets now raises ImportError
    with pytest.raises(ImportError, match=r"accumulation_explorer needs the package ipywidgets.*"
                                          r"autodiff-kit\[lectures\]"):
        widgets.accumulation_explorer()


class FakeHandle:
    def __init__(self):
        self.images = []

    def update(self, image):
        self.images.append(image)


def test_live_loss_plot_redraws_every_few_steps():
    handle = FakeHandle()
    shown = []

    def display(image, display_id):
        assert display_id is True
        shown.append(image)
        return handle

    plot = widgets.LiveLossPlot("loss", every=3, display=display)
    for loss in [4.0, 2.0, 1.0, 0.5, 0.25, 0.125, 0.1]:
        plot.update(loss)
    assert len(shown) == 1 and len(handle.images) == 2  # after steps 3 and 6
    plot.show()
    assert len(handle.images) == 3
    assert plot.losses == [4.0, 2.0, 1.0, 0.5, 0.25, 0.125, 0.1]
    assert handle.images[-1].data.startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="every"):
        widgets.LiveLossPlot(every=0, display=display)


def test_loss_figure_uses_a_log_scale_for_positive_losses_only():
    assert widgets.loss_figure([3.0, 1.0, 0.5]).axes[0].get_yscale() == "log"
    assert widgets.loss_figure([1.0, -1.0]).axes[0].get_yscale() == "linear"
    assert widgets.figure_png(widgets.loss_figure([])).startswith(b"\x89PNG")
