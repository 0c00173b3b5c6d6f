"""Sphinx extension: each script at most once in a page.

sphinx-thebe, which Jupyter Book loads, registers an inline script declaring
``const THEBE_JS_URL`` after the HTML builder has been set up; under Sphinx 7.4 the script then
reaches every page twice, and the second copy throws "Identifier 'THEBE_JS_URL' has already been
declared" in every reader's browser. This keeps the first of identical script entries.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def drop_repeated_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Keep one of each identical script entry (same file or body, priority and attributes), in order."""
    scripts = context.get("script_files")
    if scripts:
        context["script_files"] = list(dict.fromkeys(scripts))


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
