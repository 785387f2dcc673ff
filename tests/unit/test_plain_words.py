"""Pages a buyer reads say things in plain words (docs/glossary.md): none of them shows a word
the glossary marks "never to buyers" (归属 and the ledger's and the code's jargon), in Chinese
or, for the strings they show, in the English catalogue ("attributed")."""
from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from marketplace.config import PROJECT_ROOT
from marketplace.core import i18n

GLOSSARY = PROJECT_ROOT / "docs" / "glossary.md"
TEMPLATES = PROJECT_ROOT / "templates"
PO_PATH = PROJECT_ROOT / "marketplace" / "translations" / "en" / "LC_MESSAGES" / "messages.po"

# the pages a buyer reads, as docs/glossary.md lists them
BUYER_FOLDERS = ("storefront", "orders", "accounts", "errors", "notifications")
BUYER_FILES = ("households/public.html", "base.html", "macros.html")
NOT_BUYERS = ("orders/seller_orders.html",)  # the seller's orders console
ENGLISH_JARGON = re.compile(r"\battribut", re.IGNORECASE)
COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)


def buyer_templates() -> list[str]:
    found = [p.relative_to(TEMPLATES).as_posix() for folder in BUYER_FOLDERS
             for p in sorted((TEMPLATES / folder).rglob("*.html"))]
    return [t for t in found + list(BUYER_FILES) if t not in NOT_BUYERS]


def never_to_buyers() -> dict[str, str]:
    """Jargon -> the plain wording, from the glossary's rows marked "never to buyers"."""
    words = {}
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[4].startswith("yes"):
            for word in re.split(r"[、，,]", cells[0]):
                if word.strip():
                    words[word.strip()] = cells[1]
    return words


def test_the_glossary_names_the_jargon():
    words = never_to_buyers()
    assert {"归属", "冲回", "先收先销"} <= set(words), words
    assert words["归属"].startswith("计入农户收入")


@pytest.mark.parametrize("name", buyer_templates())
def test_no_jargon_on_a_buyer_page(name):
    source = COMMENT.sub("", (TEMPLATES / name).read_text(encoding="utf-8"))
    found = {word: plain for word, plain in never_to_buyers().items() if word in source}
    assert not found, (f"templates/{name} shows jargon to buyers; docs/glossary.md says "
                       + "; ".join(f"{w} -> {p}" for w, p in found.items()))


def test_the_english_of_buyer_pages_has_no_jargon():
    pages = {f"templates/{t}" for t in buyer_templates()}
    shown = {m.id for m in i18n.extract_catalog(PROJECT_ROOT)
             if m.id and any(loc[0] in pages for loc in m.locations)}
    with PO_PATH.open("rb") as fh:
        english = read_po(fh, locale="en")
    found = [f"{m.id!r}: {m.string!r}" for m in english
             if m.id in shown and isinstance(m.string, str) and ENGLISH_JARGON.search(m.string)]
    assert not found, "English on buyer pages says 'attributed' (glossary: counted toward):\n" + (
        "\n".join(found))
