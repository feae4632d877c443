"""What the lectures' views share: their optional dependencies, imported when first
needed, and a table cell."""

from __future__ import annotations

import importlib
from typing import Any


def _require(module: str, what: str) -> Any:
    """Import ``module`` for ``what``, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f"{what} needs the package {module.split('.')[0]}, which is not installed. Install the "
            "lectures' extras with: pip install 'autodiff-kit[lectures]' (ipywidgets and matplotlib)."
        ) from None


def _ipywidgets(what: str) -> Any:
    return _require("ipywidgets", what)



def _cell(content: str, tag: str = "td", align: str = "left") -> str:
    return f'<{tag} style="padding: 1px 12px; text-align: {align}">{content}</{tag}>'
