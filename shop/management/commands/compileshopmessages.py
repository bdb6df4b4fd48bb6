"""``manage.py compileshopmessages [--check]``: compile shop/locale's .po files to .mo.

The shop's words live in ``shop/locale/<lang>/LC_MESSAGES/django.po`` and the compiled ``.mo``
files are committed beside them (as Django commits its own), so running the shop, CI and the
Docker image need no GNU gettext. This compiles with polib (a dev dependency), not ``msgfmt``;
Django's ``compilemessages`` gives the same catalogues where GNU gettext is installed.
``--check`` compiles nothing and exits non-zero if a committed .mo is out of date.
"""

from __future__ import annotations

import io
from gettext import GNUTranslations
from pathlib import Path
from typing import Any

import polib
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shop.words import LOCALE_DIR


def po_files(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    return sorted(locale_dir.glob("*/LC_MESSAGES/django.po"))


def compiled(po_path: Path) -> bytes:
    """The .mo bytes of one .po file (fuzzy and untranslated entries left out, as msgfmt does)."""
    return bytes(polib.pofile(str(po_path)).to_binary())


def catalog(mo_bytes: bytes) -> dict[Any, str]:
    """What gettext reads from a .mo: msgid -> msgstr (the header under ``""``)."""
    translations = GNUTranslations(io.BytesIO(mo_bytes))
    return dict(translations._catalog)  # type: ignore[attr-defined]  # no public accessor


def stale(po_path: Path) -> bool:
    """Whether the committed .mo beside ``po_path`` is missing or reads differently."""
    mo_path = po_path.with_suffix(".mo")
    return not mo_path.exists() or catalog(mo_path.read_bytes()) != catalog(compiled(po_path))


class Command(BaseCommand):
    help = "Compile shop/locale/*/LC_MESSAGES/django.po to .mo with polib (no GNU gettext)."
    requires_system_checks: list[str] = []  # a file tool: it needs no working shop

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="only report .mo files that are out of date"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        paths = po_files()
        if options["check"]:
            out_of_date = [str(p.with_suffix(".mo")) for p in paths if stale(p)]
            if out_of_date:
                stale_list = ", ".join(out_of_date)
                raise CommandError(f"out of date, run compileshopmessages: {stale_list}")
            self.stdout.write(f"{len(paths)} catalogues up to date")
            return
        for path in paths:
            path.with_suffix(".mo").write_bytes(compiled(path))
            self.stdout.write(f"compiled {path.with_suffix('.mo')}")
