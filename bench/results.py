"""``bench/RESULTS.md`` holds one top-level section per benchmark (``# Catalog benchmarks``,
``# Proxy overhead``, ...). Each benchmark replaces its own section and keeps the others."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def _bounds(text: str, heading: str) -> tuple[int, int] | None:
    """Where the section that starts with the line ``heading`` begins and ends."""
    if text.startswith(heading + "\n"):
        start = 0
    else:
        found = text.find("\n" + heading + "\n")
        if found < 0:
            return None
        start = found + 1
    following = text.find("\n# ", start + len(heading))
    return start, (following + 1 if following >= 0 else len(text))


def read_section(heading: str, path: Path = RESULTS) -> str:
    """The current text of one benchmark's section ("" when there is none)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    bounds = _bounds(text, heading)
    return text[bounds[0] : bounds[1]] if bounds else ""


def write_section(heading: str, section: str, path: Path = RESULTS) -> None:
    """Replace (or append) the section starting with ``heading``; the file is re-read just
    before writing, so benchmarks run one after another never lose each other's figures."""
    if not section.startswith(heading + "\n"):
        raise ValueError(f"the section must start with its heading {heading!r}")
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    section = section.rstrip("\n") + "\n"
    bounds = _bounds(text, heading)
    if bounds is None:
        text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + section
    else:
        start, end = bounds
        rest = text[end:]
        text = text[:start] + section + ("\n" + rest if rest else "")
    path.write_text(text, encoding="utf-8")


def history_rows(heading: str, path: Path = RESULTS) -> list[str]:
    """The rows of the ``## Run history`` table of the section being replaced (each starts
    with the run's date, ``| 20..``), so a benchmark can keep them and add its own."""
    section = read_section(heading, path)
    if "## Run history" not in section:
        return []
    tail = section.split("## Run history", 1)[1]
    return [ln for ln in tail.splitlines() if ln.startswith("| 20")]
