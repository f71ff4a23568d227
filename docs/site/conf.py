"""Sphinx configuration of the gradus site: the course (en + ko galleries), the API reference, the glossary.

Build:  sphinx-build -b html docs/site docs/_build/html
The course pages are sphinx-gallery scripts (``course/<lang>/NN_name.py``); the build executes each one
and keeps its printed output and figures. ``GRADUS_DOCS_FAST=1`` (set by ``tests/docs/test_site.py``)
makes every page use its small settings. Nothing is fetched from the network while building: no
intersphinx, no remote theme (alabaster ships with Sphinx).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The repository root: the `:source:` links and the glossary read from it. The site test builds a copy
# of docs/site elsewhere and tells us where the repository is.
REPO = Path(os.environ.get("GRADUS_REPO_ROOT", HERE.parents[1])).resolve()
sys.path.insert(0, str(HERE / "_ext"))
if (REPO / "src" / "gradus").is_dir():          # build against this checkout, installed or not
    sys.path.insert(0, str(REPO / "src"))

project = "gradus"
author = "the gradus authors"
copyright = "gradus authors, MIT licence"  # noqa: A001 (Sphinx's name)
language = "en"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",     # the docstrings use Google style (Args:, Returns:, Raises:)
    "sphinx.ext.linkcode",     # [source] links to the plain source pages that gradus_site writes
    "sphinx.ext.mathjax",
    "myst_parser",             # Markdown pages (the glossary, the landing page)
    "sphinx_gallery.gen_gallery",
    "gradus_site",             # _ext/gradus_site.py: language switch, :source: role, API pages, glossary
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["gradus.css"]
html_theme = "alabaster"
html_title = "gradus"
html_copy_source = False               # the course's sources are downloadable from each page already
html_show_sourcelink = False
html_theme_options = {"description": "deep learning from first principles, on NumPy", "fixed_sidebar": False}
# course/ holds the gallery sources (read by sphinx-gallery, not by Sphinx); en/ and ko/ are generated
exclude_patterns = ["_build", "course"]

# --- autodoc: the API reference is generated from the docstrings (api/*.rst are written by gradus_site)
autodoc_default_options = {"members": True, "show-inheritance": True, "member-order": "bysource"}
autodoc_typehints = "signature"      # the default; "description" costs a third more build time
autodoc_inherit_docstrings = False     # an override without a docstring does not repeat the base's
napoleon_google_docstring = True
napoleon_numpy_docstring = False
gradus_api_packages = ["tensor", "creation", "autograd", "functional", "nn", "optim", "data",
                       "models", "rl", "train", "viz"]

# --- the course: two galleries with the same code, one per language
sphinx_gallery_conf = {
    "examples_dirs": ["course/en", "course/ko"],
    "gallery_dirs": ["en", "ko"],
    "filename_pattern": r"/\d\d_",            # execute every numbered page
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "abort_on_example_error": False,          # report every failing page, then fail the build
    "only_warn_on_example_error": False,
    "remove_config_comments": True,
    "backreferences_dir": None,
    "doc_module": (),
    "reference_url": {},                      # no links to remote documentation
    "show_memory": False,
    "min_reported_time": 0,
    "capture_repr": ("_repr_html_", "__repr__"),
    "matplotlib_animations": False,
    # the notebook needs gradus importable: `pip install -e ".[train]"` in a gradus checkout
    "first_notebook_cell": "# needs gradus: pip install -e \".[train]\" in a gradus checkout\n%matplotlib inline",
    "write_computation_times": True,
    # run the pages in parallel processes (joblib) when sphinx-build is given -j N: sixteen pages in
    # two languages are most of the build's time, and each runs alone in its own process anyway
    "parallel": True,
}

# Formulas: MathJax 3 is loaded by the reader's browser (the only remote file a page asks for; the
# build itself needs no network). Point GRADUS_MATHJAX_PATH at a local copy to read fully offline.
if os.environ.get("GRADUS_MATHJAX_PATH"):
    mathjax_path = os.environ["GRADUS_MATHJAX_PATH"]

nitpicky = False
# The two galleries hold the same file names on purpose (en/01_x.py and ko/01_x.py are twins).
# sphinx-gallery warns because its cross-gallery back-references would clash; those are switched off
# (backreferences_dir None), and Sphinx copies same-named images to distinct files in _images/.
suppress_warnings = ["sphinx_gallery.duplicate_filename"]

gradus_repo_root = str(REPO)


def linkcode_resolve(domain, info):
    import gradus_site  # _ext/ is on sys.path (above)

    return gradus_site.linkcode_url(domain, info, REPO)
