"""The documentation site (``docs/site``) builds, and what it builds is whole.

- **Twins.** Every course page exists in English and Korean (``docs/site/course/{en,ko}/NN_name.py``),
  and the *code* of the twins is identical, so their numbers and pictures are the same. Code is what
  sphinx-gallery's own parser calls code (everything outside the text comment blocks), compared token
  by token with ``#`` comments left out: a comment explains the code to the reader and may be written
  in the page's language; it cannot change what the code computes.
- **The build.** The whole site is built once per session (``sphinx-build -W --keep-going -b html``,
  warnings are errors) from a copy of ``docs/site`` in a temporary folder, with ``GRADUS_DOCS_FAST=1``
  so that every course page runs its small settings. Building executes every course page.
- **What it built.** Every course page's HTML exists in both languages with a language switch to its
  twin, a downloadable ``.py`` and ``.ipynb``; the twins' figures are byte-identical; every ``<img>``
  file exists; every internal ``href`` resolves to a file, and a ``#fragment`` to an element of it.
- **In a browser.** When a ``chromium`` binary is installed, headless Chromium opens every page and
  reports that it rendered and that every image loaded (otherwise the test is skipped, with the reason).
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tokenize
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
SITE = REPO / "docs" / "site"
COURSE = SITE / "course"
LANGUAGES = ("en", "ko")
BUILD_TIMEOUT_S = 600
PAGE = re.compile(r"^\d\d_\w+\.py$")   # course/<lang>/NN_name.py


def course_pages(lang: str) -> list[str]:
    return sorted(p.name for p in (COURSE / lang).iterdir() if PAGE.match(p.name))


# -------------------------------------------------------------------------------------------- twins

def test_every_page_has_its_twin():
    en, ko = course_pages("en"), course_pages("ko")
    assert en, "no course pages found in docs/site/course/en"
    assert set(en) == set(ko), (f"pages only in English: {sorted(set(en) - set(ko))}; "
                                f"only in Korean: {sorted(set(ko) - set(en))}")
    for lang in LANGUAGES:  # the gallery's landing page
        assert (COURSE / lang / "GALLERY_HEADER.rst").is_file()


def _code_tokens(code: str) -> list[tuple[int, str]]:
    """The code's tokens without comments and layout-only tokens: what Python executes."""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING}
    return [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(code).readline)
            if t.type not in skip]


@pytest.mark.parametrize("page", course_pages("en"))
def test_twins_run_the_same_code(page):
    parser = pytest.importorskip("sphinx_gallery.py_source_parser")
    code = {}
    for lang in LANGUAGES:
        path = COURSE / lang / page
        if not path.is_file():
            pytest.fail(f"docs/site/course/{lang}/{page} is missing", pytrace=False)
        _, blocks = parser.split_code_and_text_blocks(str(path))
        code[lang] = [content for label, content, _ in blocks if label == "code"]
    assert len(code["en"]) == len(code["ko"]), (
        f"{page}: {len(code['en'])} code blocks in English, {len(code['ko'])} in Korean")
    for i, (en, ko) in enumerate(zip(code["en"], code["ko"]), 1):
        if _code_tokens(en) != _code_tokens(ko):
            import difflib
            diff = "\n".join(difflib.unified_diff(en.splitlines(), ko.splitlines(), "en", "ko", lineterm=""))
            pytest.fail(f"{page}: code block {i} differs between the languages:\n{diff}", pytrace=False)


# -------------------------------------------------------------------------------------------- the build

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build the site once; returns the HTML folder. The build time is printed (pytest -s shows it)."""
    pytest.importorskip("sphinx")
    pytest.importorskip("sphinx_gallery")
    pytest.importorskip("myst_parser")
    pytest.importorskip("matplotlib")
    tmp = tmp_path_factory.mktemp("site")
    src, out = tmp / "src", tmp / "html"
    # a copy: the build writes generated pages (en/, ko/, api/*.rst) next to its sources; a build made
    # in place earlier leaves them there, and they are left behind so that this build starts clean
    generated = {SITE / "_build", SITE / "en", SITE / "ko", SITE / "glossary.md", SITE / "sg_execution_times.rst"}

    def ignore(folder, names):
        here = Path(folder)
        return [n for n in names if here / n in generated or n == "__pycache__"
                or (here == SITE / "api" and n != "index.rst")]

    shutil.copytree(SITE, src, ignore=ignore)
    env = dict(os.environ, GRADUS_DOCS_FAST="1", GRADUS_REPO_ROOT=str(REPO), MPLBACKEND="Agg",
               PYTHONHASHSEED="0")
    # pages that train on real data read it where a user's shell says (GRADUS_DATA); here: the CI's copy
    env.setdefault("GRADUS_DATA", os.environ.get("GRADUS_TEST_DATA") or str(REPO.parent / "shared" / "data"))
    # -j 2: the pages run two at a time (sphinx-gallery's "parallel", through joblib), one per core
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-j", "2", "-b", "html", "-q", str(src),
           str(out)]
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"the site build ran over {BUILD_TIMEOUT_S} s\n{e.stdout}\n{e.stderr}", pytrace=False)
    seconds = time.perf_counter() - t0
    if r.returncode != 0:
        pytest.fail(f"sphinx-build exited with {r.returncode} after {seconds:.0f} s (warnings are errors):\n"
                    f"{r.stderr[-20000:]}\n{r.stdout[-5000:]}", pytrace=False)
    print(f"\nsite built in {seconds:.1f} s")
    return out


class _Page(HTMLParser):
    """The ids, <img> sources and hrefs of one HTML page."""

    def __init__(self):
        super().__init__()
        self.ids, self.images, self.links = set(), [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and "name" in attrs:
            self.ids.add(attrs["name"])
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
        if tag in ("a", "link") and attrs.get("href"):
            self.links.append(attrs["href"])


_PARSED: dict[Path, _Page] = {}


def parse(path: Path) -> _Page:
    if path not in _PARSED:
        page = _Page()
        page.feed(path.read_text(encoding="utf-8"))
        _PARSED[path] = page
    return _PARSED[path]


def site_pages(out: Path) -> list[Path]:
    """The pages Sphinx wrote (the plain source pages under _repo/ hold no links but their home link)."""
    return sorted(p for p in out.rglob("*.html") if "_repo" not in p.relative_to(out).parts)


def _internal(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith(("mailto:", "javascript:"))


def test_every_page_was_built(site):
    for lang in LANGUAGES:
        assert (site / lang / "index.html").is_file()
        for page in course_pages(lang):
            stem = page[:-3]
            assert (site / lang / f"{stem}.html").is_file(), f"{lang}/{stem}.html was not built"
    for name in ("index.html", "glossary.html", "api/index.html", "api/nn.html", "api/models.html"):
        assert (site / name).is_file(), f"{name} was not built"


def test_every_page_has_its_downloads_and_language_switch(site):
    downloads = {p.name for p in (site / "_downloads").rglob("*") if p.is_file()}
    for lang in LANGUAGES:
        other = next(x for x in LANGUAGES if x != lang)
        for page in course_pages(lang):
            stem = page[:-3]
            html = (site / lang / f"{stem}.html").read_text(encoding="utf-8")
            assert f"{stem}.py" in downloads and f"{stem}.ipynb" in downloads, f"{lang}/{stem}: downloads"
            switch = re.search(r'<nav class="lang-switch"[^>]*>(.*?)</nav>', html, re.S)
            assert switch, f"{lang}/{stem}.html has no language switch"
            assert f'href="../{other}/{stem}.html"' in switch.group(1), (
                f"{lang}/{stem}.html: the language switch does not link to {other}/{stem}.html")
    nb = json.loads(next((site / "_downloads").rglob("*.ipynb")).read_text(encoding="utf-8"))
    assert nb["cells"] and nb["nbformat"] >= 4         # a notebook Jupyter can open


def test_every_image_exists(site):
    missing = []
    for page in site_pages(site):
        for src in parse(page).images:
            if _internal(src) and not (page.parent / unquote(urlsplit(src).path)).is_file():
                missing.append(f"{page.relative_to(site)}: {src}")
    assert not missing, "images that do not exist:\n" + "\n".join(missing)
    course_images = [s for lang in LANGUAGES for p in (site / lang).glob("[0-9][0-9]_*.html")
                     for s in parse(p).images]
    assert course_images, "the course pages drew no pictures"


def test_twins_draw_the_same_pictures(site):
    """The same code must draw the same figures: the twins' images, in page order, are byte-identical."""
    import hashlib

    def pictures(lang, stem):
        page = site / lang / f"{stem}.html"
        return [hashlib.sha256((page.parent / unquote(src)).read_bytes()).hexdigest()
                for src in parse(page).images if "sphx_glr_" in src]

    for page in course_pages("en"):
        en, ko = pictures("en", page[:-3]), pictures("ko", page[:-3])
        assert en == ko, f"{page}: the English and Korean pages drew different pictures ({len(en)} vs {len(ko)})"


def test_every_internal_link_resolves(site):
    broken = []
    for page in site_pages(site):
        for href in parse(page).links:
            if not _internal(href):
                continue
            parts = urlsplit(href)
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page.relative_to(site)}: {href} (no such file)")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in parse(target).ids:
                broken.append(f"{page.relative_to(site)}: {href} (no element with that id)")
    assert not broken, f"{len(broken)} broken internal links:\n" + "\n".join(broken[:50])


# -------------------------------------------------------------------------------------------- a browser

# Opened by headless Chromium: it loads every page in an iframe (same-origin thanks to
# --allow-file-access-from-files), waits for it, and writes what it found into <pre id="result">.
_HARNESS = """<!DOCTYPE html><html><body><pre id="result">running</pre><script>
const pages = %s;
const report = [];
function check(i) {
  if (i >= pages.length) { document.getElementById("result").textContent = JSON.stringify(report); return; }
  const frame = document.createElement("iframe");
  frame.onload = () => {
    const doc = frame.contentDocument;
    const imgs = doc ? Array.from(doc.images) : [];
    const wait = imgs.filter(im => !im.complete).map(im => new Promise(r => { im.onload = im.onerror = r; }));
    Promise.all(wait).then(() => {
      report.push({page: pages[i], rendered: !!(doc && doc.body && doc.body.innerText.trim().length > 0),
                   title: doc ? doc.title : "", broken: imgs.filter(im => im.naturalWidth === 0).map(im => im.src),
                   images: imgs.length});
      frame.remove();
      check(i + 1);
    });
  };
  frame.src = pages[i];
  document.body.appendChild(frame);
}
check(0);
</script></body></html>
"""


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def test_pages_render_in_headless_chromium(site):
    exe = _chromium()
    if exe is None:
        pytest.skip("no chromium binary on PATH (Debian: apt install chromium); the static checks above ran")
    pages = [p.relative_to(site).as_posix() for p in site_pages(site)
             if p.parts[-2] in LANGUAGES or p.name == "index.html" and p.parent in (site, site / "api")]
    harness = site / "_chromium_check.html"
    harness.write_text(_HARNESS % json.dumps(pages), encoding="utf-8")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
           "--virtual-time-budget=60000", "--dump-dom", harness.as_uri()]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    found = re.search(r'<pre id="result">(.*?)</pre>', r.stdout, re.S)
    assert found and found.group(1).startswith("["), f"chromium did not finish:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    report = json.loads(found.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))
    assert len(report) == len(pages)
    bad = [r for r in report if not r["rendered"] or r["broken"]]
    assert not bad, "pages that did not render or whose images did not load:\n" + json.dumps(bad, indent=1)
    assert sum(r["images"] for r in report) > 0
