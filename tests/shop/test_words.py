"""The shop's words: every English text the pages translate has an entry in each catalogue,
the committed .mo files are the .po files compiled, and ``translate`` falls back and fills in.

The first test stands in for ``makemessages``, which cannot see the ``t`` tag or the texts that
reach it through variables (a page title, a notice, a field's label, one of our error sentences).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.template import Context, Template

from shop import words
from shop.forms import ADDRESS_FIELDS
from shop.management.commands.compileshopmessages import catalog, compiled, po_files, stale
from shop.paths import SEARCH_DEFAULT_LABEL, SORT_LABELS
from shop.words import translate

SHOP = Path(words.__file__).resolve().parent
PO_FILES = po_files()
LANGUAGES = sorted(words.LANGUAGES)

# {% t "text" ... %} or {% tv "text" ... %}, in double or single quotes.
TAG_LITERAL = re.compile(r"""\{%\s*tv?\s+(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")
# shop/forms.py: Centra's errors in our words.
ERROR_TABLES = {"_FIELD_ERRORS", "_ANY_FIELD_ERRORS", "_REFUSED"}


def _template_texts() -> Iterator[tuple[str, str]]:
    for path in sorted((SHOP / "templates").rglob("*.html")):
        for match in TAG_LITERAL.finditer(path.read_text(encoding="utf-8")):
            yield match.group(1) or match.group(2) or "", str(path.relative_to(SHOP))


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
        return node.value
    return None


def _call_texts(call: ast.Call) -> Iterator[str | None]:
    """The texts a call hands to the pages in English: ``translate(language, "...")``, a
    notice (``Notice("...")``, ``frame.say("...")``), a ``title="..."``, a form field's or
    option's label."""
    name = getattr(call.func, "id", None) or getattr(call.func, "attr", None)
    if name == "translate" and len(call.args) > 1:
        yield _literal(call.args[1])
    if name in {"Notice", "say", "_email"} and call.args:
        yield _literal(call.args[0])
    if name in {"Field", "Option"} and len(call.args) > 1:
        yield _literal(call.args[1])
    for keyword in call.keywords:
        if keyword.arg == "title" or (name == "Field" and keyword.arg == "label"):
            yield _literal(keyword.value)


def _error_texts(tree: ast.Module) -> Iterator[str | None]:
    """The values of the error tables and the sentences ``error_text`` returns."""
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {getattr(target, "id", None) for target in targets}
            if names & ERROR_TABLES and isinstance(node.value, ast.Dict):
                yield from (_literal(value) for value in node.value.values)
        if isinstance(node, ast.FunctionDef) and node.name == "error_text":
            for sub in ast.walk(node):
                if isinstance(sub, ast.Return):
                    yield _literal(sub.value)
                if isinstance(sub, ast.Call) and getattr(sub.func, "attr", None) == "get":
                    yield from (_literal(arg) for arg in sub.args[1:])


def _field_errors(tree: ast.Module) -> Iterator[str | None]:
    """``field.error = "..."``: a form's own checks."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            getattr(target, "attr", None) == "error" for target in node.targets
        ):
            yield _literal(node.value)


def _python_texts() -> Iterator[tuple[str, str]]:
    for path in sorted(SHOP.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = str(path.relative_to(SHOP))
        found = [
            text
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            for text in _call_texts(node)
        ]
        found += [*_error_texts(tree), *_field_errors(tree)]
        yield from ((text, where) for text in found if text)


def _shop_texts() -> dict[str, str]:
    """Every English text the pages translate -> one place it comes from."""
    # {% t s.label %}: the sort options' words
    texts = {label: "shop/paths.py SORT_LABELS" for label in SORT_LABELS.values()}
    texts[SEARCH_DEFAULT_LABEL] = "shop/paths.py SEARCH_DEFAULT_LABEL"
    for label, _, _ in ADDRESS_FIELDS.values():  # the address forms' labels
        texts[label] = "shop/forms.py ADDRESS_FIELDS"
    for text, where in [*_template_texts(), *_python_texts()]:
        texts.setdefault(text, where)
    return texts


def _entries(po_path: Path) -> dict[str, polib.POEntry]:
    return {entry.msgid: entry for entry in polib.pofile(str(po_path))}


def test_the_catalogues_are_the_languages_of_the_settings() -> None:
    assert PO_FILES, "no shop/locale/*/LC_MESSAGES/django.po"
    assert {p.parent.parent.name for p in PO_FILES} == set(LANGUAGES)
    configured = {code for code, _ in settings.LANGUAGES} - {settings.LANGUAGE_CODE}
    assert configured == set(LANGUAGES)
    assert settings.USE_I18N


def test_the_scan_finds_the_pages_texts() -> None:
    """Guards the scan itself: a text of each kind it looks for is found."""
    texts = _shop_texts()
    for text in (
        "Your bag",  # {% t "..." %} in a template
        "All products",  # translate(language, "...")
        "Please log in first.",  # Notice("...")
        "Create an account",  # title="..."
        "Repeat the new password",  # Field(name, "...")
        "This code is not valid.",  # the error tables
        "Too many attempts. Please wait a minute and try again.",  # error_text's return
        "Price: low to high",  # SORT_LABELS
        "Relevance",  # SEARCH_DEFAULT_LABEL
        "Postcode",  # ADDRESS_FIELDS
        "The passwords do not match.",  # field.error = "..."
        "Your browser does not accept cookies from our shop, so it cannot keep a bag.",  # say
        "New email address",  # _email("...")
    ):
        assert text in texts, text


@pytest.mark.parametrize("po_path", PO_FILES, ids=lambda p: p.parent.parent.name)
def test_every_text_has_an_entry(po_path: Path) -> None:
    entries = _entries(po_path)
    missing = sorted(
        f"{text!r} (from {where})"
        for text, where in _shop_texts().items()
        if text not in entries or not entries[text].msgstr
    )
    assert not missing, f"{len(missing)} texts missing in {po_path}:\n" + "\n".join(missing)


@pytest.mark.parametrize("po_path", PO_FILES, ids=lambda p: p.parent.parent.name)
def test_entries_keep_their_placeholders(po_path: Path) -> None:
    """A translation has the English text's ``{names}``, and is flagged python-brace-format
    exactly when it has any (msgfmt -c checks the flag where GNU gettext is installed)."""
    wrong = []
    for entry in polib.pofile(str(po_path)):
        names = set(PLACEHOLDER.findall(entry.msgid))
        flagged = "python-brace-format" in entry.flags
        if set(PLACEHOLDER.findall(entry.msgstr)) != names or flagged != bool(names):
            wrong.append(entry.msgid)
        if entry.fuzzy or entry.obsolete:
            wrong.append(entry.msgid)
    assert not wrong, f"{po_path}: {wrong}"


@pytest.mark.parametrize("po_path", PO_FILES, ids=lambda p: p.parent.parent.name)
def test_the_committed_mo_is_the_po_compiled(po_path: Path) -> None:
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"run `python manage.py compileshopmessages` ({mo_path} missing)"
    assert not stale(po_path), f"run `python manage.py compileshopmessages` ({mo_path} is stale)"
    assert catalog(mo_path.read_bytes()) == catalog(compiled(po_path))


def test_translates() -> None:
    assert translate("sv", "Your bag") == "Din varukorg"
    assert translate("de", "Add to bag") == "In den Warenkorb"
    assert translate("en", "Your bag") == "Your bag"


def test_the_shops_words_win_over_djangos() -> None:
    """Django's admin translates "Change password" too; the shop's catalogue comes first."""
    assert translate("sv", "Change password") == "Byt lösenord"
    assert translate("de", "Log out") == "Abmelden"


def test_a_missing_text_falls_back_to_english() -> None:
    assert translate("sv", "A text of Centra's we have no words for") == (
        "A text of Centra's we have no words for"
    )
    # A language without a catalogue reads English throughout, even where Django has words.
    assert translate("fr", "Password") == "Password"
    assert translate("xx", "Your bag") == "Your bag"
    assert translate("sv", "") == ""


def test_values_fill_in_after_translating() -> None:
    assert translate("sv", "Pay {amount}", amount="100 kr") == "Betala 100 kr"
    assert translate("de", "Page {page} of {pages}", page=2, pages=7) == "Seite 2 von 7"
    assert translate("en", "Order {number}", number="A1") == "Order A1"
    assert translate("sv", "Unknown {x}", x=1) == "Unknown 1"


@pytest.mark.parametrize(
    "text",
    [
        "field {0} is not valid",  # IndexError
        "expected {json} here",  # KeyError
        "unbalanced { brace",  # ValueError
        "unbalanced } brace",
    ],
)
def test_a_text_with_stray_braces_is_left_alone(text: str) -> None:
    assert translate("sv", text, amount="1") == text


def test_the_tags_translate_fill_in_and_escape() -> None:
    template = Template(
        "{% load shop %}{% t 'Pay {amount}' amount=amount %}|{% tv text values %}|{% t e %}"
    )
    html = template.render(
        Context(
            {
                "lang": "sv",
                "amount": "<b>1</b>",
                "text": "Code {code} added",
                "values": {"code": "SUMMER"},
                "e": "Required",
            }
        )
    )
    assert html == "Betala &lt;b&gt;1&lt;/b&gt;|Koden SUMMER har lagts till|Obligatoriskt"
    assert Template("{% load shop %}{% t 'Your bag' %}").render(Context({})) == "Your bag"
