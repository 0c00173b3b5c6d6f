"""Sphinx extension: each notebook page can be downloaded as ``.ipynb``.

sphinx-book-theme's download menu offers an ``.ipynb`` when a page's context has
``ipynb_source`` (a path under ``_sources/``), but nothing sets it for MyST Markdown notebooks,
so readers only get the ``.md``. At build time this extension converts each notebook page's
source with jupytext (cells only, no outputs: a learner runs it) into ``_sources/<page>.ipynb``
and sets ``ipynb_source`` before the theme builds its buttons.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
from nbformat import NotebookNode
from sphinx.application import Sphinx

#: sphinx-book-theme adds its header buttons at priority 501; this must run before.
PRIORITY = 500


def notebook_of(source: Path) -> NotebookNode | None:
    """The notebook of a MyST Markdown source with a kernel and code cells, or None for a plain page."""
    if source.suffix != ".md":
        return None
    notebook = jupytext.read(source)
    if "kernelspec" not in notebook.metadata or not any(c.cell_type == "code" for c in notebook.cells):
        return None
    # The jupytext header pairs the notebook with its .md; a downloaded copy stands alone.
    notebook.metadata.pop("jupytext", None)
    return notebook


def add_notebook_download(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Write the page's notebook under ``_sources/`` and point the theme's download menu at it."""
    if doctree is None or pagename not in app.env.all_docs:
        return
    notebook = notebook_of(Path(app.env.doc2path(pagename)))
    if notebook is None:
        return
    relative = Path(pagename).with_suffix(".ipynb")
    target = Path(app.outdir) / "_sources" / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(notebook, target, fmt="ipynb")
    context["ipynb_source"] = relative.as_posix()


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", add_notebook_download, priority=PRIORITY)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
