"""Where the shipped default rules and templates are (in a wheel, or in a source checkout)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def skeleton_dir(name: str) -> Path:
    """`rules` or `mail_templates`: the copy in the installed package, else the repo's."""
    packaged = _PACKAGE / "_skeleton" / name
    if packaged.is_dir():
        return packaged
    # Editable install / source checkout: daemon/collabd/ → repository root.
    source = _PACKAGE.parent.parent / name
    if source.is_dir():
        return source
    raise FileNotFoundError(
        f"the default {name}/ are not installed with collabd (looked in {packaged} and "
        f"{source}); reinstall collabd"
    )
