"""Sphinx extension: each script at most once in a page.

sphinx-thebe and sphinx-togglebutton, which Jupyter Book loads, register inline scripts after the
HTML builder has been set up. Under Sphinx 7.4 such a script then reaches every page twice (once
with no file name, once with an empty one), and the second ``const THEBE_JS_URL`` throws
"Identifier 'THEBE_JS_URL' has already been declared" in every reader's browser. This keeps the
first of the script entries that render the same tag.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def script_key(script) -> tuple:
    """What a script entry renders: its file (no name and an empty one alike) and attributes."""
    attributes = getattr(script, "attributes", {})
    return (getattr(script, "filename", script) or "", tuple(sorted(attributes.items())))


def drop_repeated_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Keep the first of each group of script entries that render the same tag, in order."""
    scripts = context.get("script_files")
    if scripts:
        unique = {}
        for script in scripts:
            unique.setdefault(script_key(script), script)
        context["script_files"] = list(unique.values())


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
