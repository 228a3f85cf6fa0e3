"""Sphinx extension: from a number in the text to its evidence, and solutions without markers.

Loaded by ``_config.yml`` (``sphinx.local_extensions``), like ``tools.sphinx_a11y``.

**Every quoted number links to its row in the claims ledger.** A chapter quotes a number it
computed with ``{glue:text}`key:fmt``` (or ``{glue:text}`other.ipynb::key:fmt```). myst-nb
renders the role in two ways:

- a key of the same notebook is resolved while the page is *read*: the role
  (``myst_nb.ext.glue.roles.PasteTextRole``) returns ``<inline classes="pasted-text">``;
- a key of another notebook (``doc::key``) becomes a ``PendingGlueReference`` that the
  post-transform ``myst_nb.ext.glue.crossref.ReplacePendingGlueReferences`` (priority 5)
  replaces with the same ``inline`` once every notebook has been read.

Neither node keeps the key, so :class:`GlueTextRole` (registered over the ``glue`` domain's
``text`` role) runs myst-nb's role and wraps what it returns in an ``inline`` holding the key
(:data:`KEY_ATTR`). After myst-nb's post-transform has filled in the cross-notebook values,
:class:`LinkQuotedNumbers` (priority :data:`LINK_PRIORITY`) turns each wrapper into a link to
``ledger.html#claim-<key with "." as "-">`` (the row's id, :func:`tools.ledger.anchor`),
relative to the page,
with the title :data:`LINK_TITLE`. ``tools/static/evidence.css`` keeps the link quiet: the
text's colour, a dotted underline, a visible focus ring. Builders other than HTML, or a book
without the ledger page, get the number alone.

**A note can link to a claim's row too**: ``{evidence}`words <key>``` (:class:`EvidenceRole`)
links ``words`` to the row of claim ``key``, the same way.

**Solution cells show no grading markers.** The chapters mark each exercise's solution
with ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines (``tools.student`` needs them to
make the exercise notebooks); :class:`StripSolutionMarkers` removes those lines from the code
of every notebook cell on the website (:func:`tools.student.strip_markers`), leaving the
chapter sources as they are.
"""
from __future__ import annotations

from docutils import nodes
from myst_nb.ext.glue.roles import PasteTextRole
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import ReferenceRole

from helpers.claims import KEY_RE
from tools import book, ledger
from tools.student import has_markers, strip_markers

LEDGER_DOC = book.relative(ledger.LEDGER).removesuffix(".md")   # chapters/ledger
LINK_TITLE = "How this number was computed"
LINK_CLASS = "claim-link"
KEY_ATTR = "claim_key"
WRAPPER_CLASS = "claim-number"
LINK_PRIORITY = 20          # after myst-nb's ReplacePendingGlueReferences (priority 5)


def claim_anchor(key: str) -> str:
    """The HTML id of the ledger row of glue key ``key`` (the ledger's own
    :func:`tools.ledger.anchor`): ``ch04.photo-edge-corr`` -> ``claim-ch04-photo-edge-corr``."""
    return ledger.anchor(key)


def glue_key(text: str) -> str:
    """The key of a ``{glue:text}`` role's text: ``[doc::]key[:format]`` -> ``key``
    (myst-nb splits it the same way: the format after the last ``:``, the document before
    ``::``)."""
    parts = text.rsplit(":", 1)
    key = parts[0] if len(parts) == 2 else text
    return key.split("::", 1)[-1]


class GlueTextRole(PasteTextRole):
    """myst-nb's ``{glue:text}`` role, its result wrapped in an ``inline`` that keeps the key."""

    def run(self):
        result, messages = super().run()
        if not result:
            return result, messages
        wrapper = nodes.inline("", "", *result, classes=[WRAPPER_CLASS])
        wrapper[KEY_ATTR] = glue_key(self.text)
        self.set_source_info(wrapper)
        return [wrapper], messages


class EvidenceRole(ReferenceRole):
    """``{evidence}`words <ch04.ica-colour>```: the words link to that claim's ledger row,
    the way a quoted number does (a chapter's note on a claim close to its threshold)."""

    def run(self):
        key = self.target
        if not KEY_RE.match(key):
            msg = self.inliner.reporter.error(
                f"{{evidence}} needs a claim key like ch04.ica-colour, got {key!r}",
                line=self.lineno)
            return [self.inliner.problematic(self.rawtext, self.rawtext, msg)], [msg]
        wrapper = nodes.inline("", "", nodes.Text(self.title), classes=[WRAPPER_CLASS])
        wrapper[KEY_ATTR] = key
        self.set_source_info(wrapper)
        return [wrapper], []


class LinkQuotedNumbers(SphinxPostTransform):
    """Each quoted number (a :class:`GlueTextRole` wrapper) becomes a link to its ledger row."""

    default_priority = LINK_PRIORITY

    def run(self, **kwargs) -> None:
        link = (self.app.builder.format == "html" and LEDGER_DOC in self.env.all_docs
                and self.env.docname != LEDGER_DOC)
        for wrapper in list(self.document.findall(nodes.inline)):
            if KEY_ATTR not in wrapper:
                continue
            if not wrapper.children:             # myst-nb removed an unresolved value
                wrapper.parent.remove(wrapper)
                continue
            if not link or _inside_link(wrapper):
                wrapper.replace_self(wrapper.children)
                continue
            uri = self.app.builder.get_relative_uri(self.env.docname, LEDGER_DOC)
            ref = nodes.reference("", "", *wrapper.children, internal=True,
                                  refuri=f"{uri}#{claim_anchor(wrapper[KEY_ATTR])}",
                                  reftitle=LINK_TITLE, classes=[LINK_CLASS])
            ref.source, ref.line = wrapper.source, wrapper.line
            wrapper["classes"] = []              # replace_self would copy them to the link
            wrapper.replace_self(ref)


def _inside_link(node) -> bool:
    """A link inside a link (or a heading, whose text also goes into the menus) is not valid."""
    parent = node.parent
    while parent is not None:
        if isinstance(parent, (nodes.reference, nodes.title)):
            return True
        parent = parent.parent
    return False


class StripSolutionMarkers(SphinxTransform):
    """Remove the ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines from the code of
    notebook cells (myst-nb: a ``literal_block`` in a ``cell_code_source`` container)."""

    default_priority = 500

    def apply(self, **kwargs) -> None:
        for block in list(self.document.findall(nodes.literal_block)):
            parent = block.parent
            if parent is None or parent.get("nb_element") != "cell_code_source":
                continue
            code = block.astext()
            if not has_markers(code):
                continue
            code = strip_markers(code)
            block.rawsource = code
            block.children = []
            block += nodes.Text(code)


def setup(app):
    app.setup_extension("myst_nb")          # the glue domain must exist before we add to it
    app.add_role_to_domain("glue", "text", GlueTextRole(), override=True)
    app.add_role("evidence", EvidenceRole())
    app.add_post_transform(LinkQuotedNumbers)
    app.add_transform(StripSolutionMarkers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
