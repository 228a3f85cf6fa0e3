"""Sphinx extension: what the website needs beyond Jupyter Book's defaults.

Loaded by ``_config.yml`` (``sphinx.local_extensions``); tests/site checks each item in a
browser and tests/tools/test_sphinx_site.py the pieces on their own.

- **One copy of each inline script.** Jupyter Book runs sphinx-thebe's set-up twice, so every
  page declared ``const THEBE_JS_URL`` twice: a JavaScript error on every page. Identical
  scripts (same file, same attributes, same inline body) are kept once.
- **Icons without Font Awesome.** pydata-sphinx-theme loads Font Awesome's JavaScript (1.5 MB)
  and, through its stylesheet, two icon fonts (270 KB) for the ~18 icons its header and
  buttons show. After the build every ``<i class="fa-… fa-NAME">`` (or ``<span>``) of the pages
  becomes an inline ``<svg>`` that uses a symbol of a small sprite at the top of the page,
  whose paths are taken from the theme's own copy of Font Awesome Free (icons CC BY 4.0,
  https://fontawesome.com/license/free) at build time, and the Font Awesome script is
  dropped from the page. An icon the theme's copy lacks fails the build.
- **Author–year labels in the bibliography** (style ``cnn_author_year``): the text cites
  "(LeCun et al., 1998)", so the list is labelled the same way, not "[LBBH98]"; the labels are
  built from the authors' names rendered from LaTeX ("Dollár", not pybtex's "Dollar" mangled
  into "[GDollarG+17]"). arXiv identifiers written in a ``journal`` or ``note`` field
  ("arXiv preprint arXiv:1706.02677") become links to arxiv.org; DOIs and ``eprint`` fields
  are linked by pybtex's ``unsrt`` style already.
- **A way in.** The landing page gets a "Start reading" link to the first chapter under its
  title.
"""
from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle

BIB_STYLE = "cnn_author_year"
ICON_PREFIX = "cnn-icon-"
# <i class="... fa-NAME ..." attrs></i> (or an empty <span>) as the theme's templates write it.
FA_TAG = re.compile(r'<(i|span) class="([^"]*\bfa-[^"]*)"([^>]*)>\s*</\1>')
FA_SCRIPT = re.compile(r'[ \t]*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*">'
                       r'</script>\n?')
# Font Awesome's style classes: which pack an icon comes from, and nothing else.
FA_STYLES = {"fa-solid": "solid", "fas": "solid", "fa-regular": "regular", "far": "regular",
             "fa-brands": "brands", "fab": "brands"}
FA_MODIFIERS = {"fa-lg", "fa-sm", "fa-xs", "fa-fw", "fa-2x", "fa-spin"}
ARXIV = re.compile(r'(?<![">/])arXiv:(\d{4}\.\d{4,5})(v\d+)?')


# ----------------------------------------------------------------- scripts

def unique_scripts(app, pagename, templatename, context, doctree) -> None:
    """Keep the first of each identical script of the page (see the module's docstring)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        # an inline script's filename is None or "" depending on who added it
        key = (getattr(script, "filename", str(script)) or None,
               tuple(sorted((getattr(script, "attributes", None) or {}).items())))
        if key in seen:
            continue
        seen.add(key)
        kept.append(script)
    # in place: the list is the builder's, to which later handlers still add (MathJax's
    # script is added in this same event, on pages with formulas)
    scripts[:] = kept


# ----------------------------------------------------------------- icons

def font_awesome_js() -> Path:
    import pydata_sphinx_theme
    return (Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme"
            / "static" / "scripts" / "fontawesome.js")


_ICON_DEF = re.compile(r'(?:"([\w-]+)"|\b([a-z][\w]*)):\[(\d+),(\d+),\[[^\]]*\],"[0-9a-f]+",'
                       r'("[^"]*"|\[[^\]]*\])\]')


def icon_paths(source: str) -> dict[str, dict[str, tuple[int, int, str]]]:
    """{pack: {name: (width, height, SVG path)}} from Font Awesome's JavaScript bundle, whose
    packs come in the order brands, regular, solid (each defined with ``d("fab", ...)`` etc.).
    A duotone icon (two paths) is skipped."""
    starts = sorted((m.start(), pack) for pack, code in
                    (("brands", "fab"), ("regular", "far"), ("solid", "fas"))
                    for m in re.finditer(rf'd\("{code}",\w+\)', source))
    if len(starts) < 3:
        raise ValueError("Font Awesome's bundle does not define the brands, regular and solid "
                         "packs as expected; has pydata-sphinx-theme changed?")
    packs: dict[str, dict] = {"brands": {}, "regular": {}, "solid": {}}
    for m in _ICON_DEF.finditer(source):
        name = m.group(1) or m.group(2)
        if not m.group(5).startswith('"'):
            continue
        # the pack is the first one whose definition call follows the icon
        pack = next((p for at, p in starts if at > m.start()), None)
        if pack is not None:
            packs[pack].setdefault(name, (int(m.group(3)), int(m.group(4)), m.group(5)[1:-1]))
    return packs


def _icon_of(classes: list[str]) -> tuple[str, str]:
    pack = next((FA_STYLES[c] for c in classes if c in FA_STYLES), "solid")
    names = [c[3:] for c in classes if c.startswith("fa-") and c not in FA_STYLES
             and c not in FA_MODIFIERS]
    if len(names) != 1:
        raise ValueError(f"cannot tell the icon of class={' '.join(classes)!r}")
    return pack, names[0]


def replace_icons(page: str, packs: dict) -> tuple[str, set[tuple[str, str]]]:
    """(page with each Font Awesome <i> as an inline <svg> using the sprite, icons used)."""
    used: set[tuple[str, str]] = set()

    def svg(match: re.Match) -> str:
        classes = match.group(2).split()
        pack, name = _icon_of(classes)
        if name not in packs[pack]:
            raise ValueError(f"icon {pack}/{name} is not in the theme's Font Awesome")
        used.add((pack, name))
        width, height, _ = packs[pack][name]
        kept = [c for c in classes if c not in FA_STYLES and c != f"fa-{name}"]
        attributes = match.group(3)
        if "aria-hidden" not in attributes:
            attributes += ' aria-hidden="true"'
        return (f'<svg class="{" ".join(kept + ["cnn-icon", ICON_PREFIX + name])}"'
                f'{attributes} focusable="false" viewBox="0 0 {width} {height}">'
                f'<use href="#{ICON_PREFIX}{pack}-{name}"></use></svg>')

    return FA_TAG.sub(svg, page), used


def sprite(used: set[tuple[str, str]], packs: dict) -> str:
    symbols = "".join(
        f'<symbol id="{ICON_PREFIX}{pack}-{name}" viewBox="0 0 {w} {h}">'
        f'<path fill="currentColor" d="{html.escape(path)}"></path></symbol>'
        for pack, name in sorted(used) for w, h, path in [packs[pack][name]])
    return (f'<svg class="cnn-icon-sprite" aria-hidden="true" width="0" height="0" '
            f'style="position:absolute">{symbols}</svg>')


def without_font_awesome(page: str, packs: dict) -> str:
    """The page with inline SVG icons and no Font Awesome script."""
    page, used = replace_icons(page, packs)
    page = FA_SCRIPT.sub("", page)
    if used:
        page = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + sprite(used, packs), page,
                      count=1)
    return page


def icons_after_build(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    packs = icon_paths(font_awesome_js().read_text())
    out = Path(app.outdir)
    for path in out.rglob("*.html"):
        if path.relative_to(out).parts[0] in ("_static", "_sources"):
            continue
        page = path.read_text()
        new = without_font_awesome(page, packs)
        if new != page:
            path.write_text(new)
    for name in ("fontawesome.js", "fontawesome.js.map", "fontawesome.js.LICENSE.txt"):
        (out / "_static" / "scripts" / name).unlink(missing_ok=True)


# ----------------------------------------------------------------- bibliography

def _plain(latex: str) -> str:
    return Text.from_latex(latex).render_as("text")


def author_year(entry) -> str:
    """"LeCun et al., 1998", "He and Sun, 2015", "Chollet, 2017" (as the text cites)."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    last = [_plain(" ".join(p.prelast_names + p.last_names)) for p in people]
    if not last:
        who = _plain(entry.fields.get("organization", entry.key))
    elif len(last) == 1:
        who = last[0]
    elif len(last) == 2:
        who = f"{last[0]} and {last[1]}"
    else:
        who = f"{last[0]} et al."
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabels(BaseLabelStyle):
    """Author–year labels; the same label twice gets a, b, ... after the year."""

    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        labels = [author_year(e) for e in entries]
        counts = Counter(labels)
        seen: Counter = Counter()
        for label in labels:
            if counts[label] > 1:
                seen[label] += 1
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
            else:
                yield label


class AuthorYearStyle(UnsrtStyle):
    default_label_style = AuthorYearLabels
    default_sorting_style = "author_year_title"


def link_arxiv(page_html: str) -> str:
    """arXiv:NNNN.NNNNN not already inside a link -> a link to its abstract page."""
    return ARXIV.sub(lambda m: f'<a class="reference external" href="https://arxiv.org/abs/'
                     f'{m.group(1)}">arXiv:{m.group(1)}{m.group(2) or ""}</a>', page_html)


def bibliography_links(app, pagename, templatename, context, doctree) -> None:
    if "body" in context and 'class="citation"' in context["body"]:
        context["body"] = link_arxiv(context["body"])


# ----------------------------------------------------------------- the landing page

def start_reading(app, pagename, templatename, context, doctree) -> None:
    """Under the landing page's title: a link to the first chapter."""
    nxt = context.get("next")
    if pagename != app.config.root_doc or not nxt or "body" not in context:
        return
    link = (f'<p class="cnn-start-reading"><a class="btn btn-primary" href="{nxt["link"]}">'
            f'Start reading: {nxt["title"]} →</a></p>')
    context["body"] = re.sub(r"(</h1>)", lambda m: m.group(1) + link, context["body"], count=1)


def setup(app):
    register_plugin("pybtex.style.formatting", BIB_STYLE, AuthorYearStyle)
    # before any handler that returns a template name (emit_firstresult stops there)
    app.connect("html-page-context", unique_scripts, priority=400)
    app.connect("html-page-context", bibliography_links)
    app.connect("html-page-context", start_reading)
    app.connect("build-finished", icons_after_build)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
