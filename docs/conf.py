"""Sphinx configuration of the autodiff-kit site: ``bash scripts/build-docs.sh`` builds it.

Theme: pydata-sphinx-theme, the theme of NumPy, SciPy, pandas and JAX's neighbours: readers
from scientific Python know its layout (sections in the top bar, the page's contents on
the right, a search field that is always there), and it ships its fonts and icons, so the
built site needs no network. Notebooks and Markdown pages go through myst-nb.
"""

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

project = "autodiff-kit"
author = "the autodiff-kit team"
copyright = "2026, the autodiff-kit team"

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.mathjax", "sphinx.ext.viewcode", "kit_docs"]
exclude_patterns = ["_build", "node_modules", "**.ipynb_checkpoints", "jupyter_execute"]

# MyST: $...$ and $$...$$ math in pages and notebooks, ::: fences for admonitions, anchors on headings.
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# The lectures are committed without outputs: run every one at each build, and fail the build on
# an error in a cell rather than publish a page with a traceback.
nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
# Widgets are shown with their state at the end of the run (the sliders where the lecture left
# them) by the widget manager served from this site, not from a CDN.
nb_ipywidgets_js = {"html-manager/embed.js": {}}

autodoc_use_legacy_class_based = True  # for kit_docs.PrimitiveDocumenter (a class-based documenter)
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the docstrings say what each argument is; the site shows signatures bare
add_module_names = False

html_theme = "pydata_sphinx_theme"
html_title = "autodiff-kit"
html_static_path = ["_static"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
# MathJax from this site (scripts/setup-docs.sh installs it from npm; kit_docs copies it here).
mathjax_path = "mathjax/tex-chtml.js"
