"""What the site needs beyond stock Sphinx: the kit's docstrings and primitives, the lectures, offline assets.

- **Dollar math in docstrings.** The kit writes math in its docstrings as ``$...$`` and
  ``$$...$$`` (so that ``help()`` reads like the lectures); autodoc hands reStructuredText
  on, where a dollar is a dollar. ``dollars_to_math`` rewrites them into the ``math`` role
  and directive before autodoc parses the docstring.
- **Primitives are functions.** ``anp.exp`` is a ``Primitive`` object, not a Python
  function, and NumPy's ufuncs have no signature that ``inspect`` can read. The
  ``PrimitiveDocumenter`` documents both kinds as functions, with the implementation's
  signature (or ``x`` / ``x, y`` for a ufunc of one or two inputs).
- **The lectures** are the notebooks of ``notebooks/``, copied into ``lectures/`` when the
  build starts, so that the site always shows the committed lectures (myst-nb executes them).
- **No internet at reading time.** MathJax and the widget manager come from the npm packages
  that ``scripts/setup-docs.sh`` installs into ``docs/node_modules``; they are copied into
  ``_static`` when the build finishes.
"""

from __future__ import annotations

import filecmp
import inspect
import re
import shutil
from pathlib import Path

import numpy
from sphinx.application import Sphinx
from sphinx.errors import ConfigError
from sphinx.ext.autodoc import FunctionDocumenter

import autodiff_kit
from autodiff_kit.tracing import Primitive

DOCS = Path(__file__).resolve().parents[1]
NOTEBOOKS = DOCS.parent / "notebooks"
LECTURES = DOCS / "lectures"
NODE_MODULES = DOCS / "node_modules"

# (what to copy from node_modules, where under _static, file names not to copy)
VENDORED = (
    ("mathjax/es5", "mathjax", ()),
    ("@jupyter-widgets/html-manager/dist", "html-manager", ("*.map", "*amd.js")),
)

_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
# $...$ within one paragraph: it may run over a line break, never over a blank line.
_INLINE_MATH = re.compile(r"(?<![\\$`])\$(?!\$)((?:[^$\n]|\n(?![ \t]*\n))+?)(?<!\\)\$(?!\$)")


def dollars_to_math(lines: list[str]) -> list[str]:
    """The docstring ``lines`` with ``$$...$$`` as ``.. math::`` blocks and ``$...$`` as ``:math:`...```.

    A display formula becomes a directive of its own, indented like the line it started on,
    with blank lines around it; text before or after it on the same lines stays a paragraph.
    """
    text = "\n".join(lines)

    def display(match: re.Match) -> str:
        start = text.rfind("\n", 0, match.start()) + 1
        indent = re.match(r"[ \t]*", text[start:]).group()
        body = "\n".join(indent + "   " + line.strip() for line in match.group(1).strip().splitlines())
        return f"\n\n{indent}.. math::\n\n{body}\n\n{indent}"

    text = _DISPLAY_MATH.sub(display, text)
    text = _INLINE_MATH.sub(lambda m: f":math:`{m.group(1)}`", text)
    return [line.rstrip() for line in text.split("\n")]


def _process_docstring(app, what, name, obj, options, lines: list[str]) -> None:
    lines[:] = dollars_to_math(lines)


class PrimitiveDocumenter(FunctionDocumenter):
    """A kit primitive, or a function wrapping a NumPy ufunc, documented as a function."""

    objtype = "primitive"
    directivetype = "function"
    priority = FunctionDocumenter.priority + 1

    @classmethod
    def can_document_member(cls, member, membername, isattr, parent) -> bool:
        return isinstance(member, Primitive) or _ufunc_inside(member) is not None

    def format_args(self, **kwargs) -> str:
        implementation = self.object.impl if isinstance(self.object, Primitive) else self.object
        ufunc = _ufunc_inside(implementation)
        if ufunc is not None:
            return "(" + ", ".join("xyz"[: ufunc.nin]) + ")"
        return str(inspect.signature(implementation))


def _ufunc_inside(obj) -> object | None:
    """The NumPy ufunc that ``obj`` is or wraps (``functools.wraps`` keeps it), if any."""
    while obj is not None:
        if type(obj).__name__ == "ufunc":
            return obj
        obj = getattr(obj, "__wrapped__", None)
    return None


def _skip_member(app, what, name, obj, skip, options) -> bool | None:
    """Leave out of a module's page what is documented elsewhere.

    A name the package exports at the top (``hvp``, ``checkpoint``, ``primitive``) is documented
    once, on the Transformations page, as ``autodiff_kit.<name>``. In ``autodiff_kit.numpy``
    (documented with its imported members), NumPy's own constants and constructors are left
    out: they are NumPy's, not the kit's.
    """
    if what != "module":
        return None
    if any(getattr(autodiff_kit, exported) is obj for exported in autodiff_kit.__all__):
        return True
    if options.imported_members and getattr(numpy, name, None) is obj:
        return True
    return None


def copy_lectures(app: Sphinx) -> None:
    """``notebooks/*.ipynb`` into ``lectures/`` (only what changed, so unchanged pages stay built)."""
    LECTURES.mkdir(exist_ok=True)
    for notebook in sorted(NOTEBOOKS.glob("*.ipynb")):
        target = LECTURES / notebook.name
        if not target.exists() or not filecmp.cmp(notebook, target, shallow=False):
            shutil.copyfile(notebook, target)


def _check_vendored(app: Sphinx) -> None:
    for source, _, _ in VENDORED:
        if not (NODE_MODULES / source).is_dir():
            raise ConfigError(f"{NODE_MODULES / source} is missing: run `bash scripts/setup-docs.sh` "
                              "first (it installs MathJax and the widget manager from npm).")


def copy_vendored(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        for source, target, ignored in VENDORED:
            shutil.copytree(NODE_MODULES / source, Path(app.outdir) / "_static" / target,
                            ignore=shutil.ignore_patterns(*ignored), dirs_exist_ok=True)


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", _check_vendored)
    app.connect("builder-inited", copy_lectures)
    app.connect("autodoc-process-docstring", _process_docstring)
    app.connect("autodoc-skip-member", _skip_member)
    app.add_autodocumenter(PrimitiveDocumenter)
    app.connect("build-finished", copy_vendored)
    app.add_js_file("widget-mathjax.js", loading_method="defer", priority=900)  # after MathJax (500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
