"""``manage.py catalog_rebuild [--market ID] [--wait]``: queue full catalog rebuilds.

Without ``--wait`` it queues and exits (the dev runner calls it at start). With ``--wait`` it
draws a progress bar per market (pages done / total) until every job has finished, and exits
non-zero if one failed or the wait timed out.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog import job_records, jobs

POLL_SECONDS = 0.5
BAR_WIDTH = 30


def progress_line(market: str, job: dict[str, Any] | None) -> str:
    if job is None:
        return f"market {market:>6}  [{' ' * BAR_WIDTH}]  (job record gone)"
    done, total = job["pagesDone"], job["pagesTotal"]
    filled = BAR_WIDTH if job["state"] == "done" else (BAR_WIDTH * done // total if total else 0)
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    line = f"market {market:>6}  [{bar}]  {done:>4}/{total:<4} pages  {job['state']}"
    if job["state"] == "done":
        line += f"  generation {job['generation']}, {job['products']} products"
    elif job.get("error"):
        line += f"  ({job['error']})"
    return line


class Command(BaseCommand):
    help = "Queue a full rebuild of the catalog cache (all markets, or one)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--market", help="rebuild only this market id")
        parser.add_argument(
            "--wait", action="store_true", help="show progress until done; non-zero on failure"
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=None,
            help="with --wait: give up after this many seconds (default: the lock maximum)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        market: str | None = options["market"]
        if market is None:
            started = jobs.rebuild_all(reason="command")
        else:
            try:
                started = [(market, jobs.rebuild_one(market=market, reason="command")[0])]
            except ValueError:
                raise CommandError(f"unknown market {market!r}") from None
        for m, job_id in started:
            self.stdout.write(f"market {m}: job {job_id}")
        if options["wait"]:
            timeout = options["timeout"] or float(job_records.lock_seconds())
            self._wait(started, timeout)

    def _wait(self, started: list[tuple[str, str]], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        tty = self.stdout.isatty()
        shown: dict[str, str] = {}
        drawn = 0
        while True:
            states: dict[str, dict[str, Any] | None] = {}
            for market, job_id in started:
                job = job_records.job_get(job_id=job_id)
                states[market] = job_records.job_json(job) if job else None
            lines = {m: progress_line(m, j) for m, j in states.items()}
            if tty:  # redraw the block in place
                if drawn:
                    self.stdout.write(f"\x1b[{drawn}F", ending="")
                for line in lines.values():
                    self.stdout.write(f"\x1b[2K{line}")
                drawn = len(lines)
            else:  # logs and pipes: one line whenever a market's line changes
                for m, line in lines.items():
                    if shown.get(m) != line:
                        self.stdout.write(line)
            shown = lines
            self.stdout.flush()
            finished = {
                m: j for m, j in states.items() if j is None or j["state"] in {"done", "failed"}
            }
            if len(finished) == len(states):
                break
            if time.monotonic() > deadline:
                raise CommandError(f"gave up waiting after {timeout:.0f} s")
            time.sleep(POLL_SECONDS)
        failed = [m for m, j in finished.items() if j is None or j["state"] != "done"]
        if failed:
            raise CommandError("rebuild failed for market " + ", ".join(failed))
        self.stdout.write(self.style.SUCCESS("catalog rebuilt"))
