"""`jotr courses`: the course catalogue that competence guidance points to."""

from __future__ import annotations

from pathlib import Path

import typer

from api.cli_common import database_url, fail, friendly

courses_app = typer.Typer(help="The course catalogue (courses that teach ESCO skills).")


def load(url: str, path: Path) -> None:
    """Load a catalogue file and print what happened; fail clearly on bad input."""
    import psycopg

    from matcher.competence.courses import CourseLoadError, load_courses

    try:
        report = load_courses(url, path)
    except CourseLoadError as exc:
        fail(f"{exc}; nothing was loaded")
    except psycopg.errors.UndefinedTable:
        fail("the database schema is not up to date: run `jotr migrate` first")
    typer.echo(f"courses loaded from {path}:")
    for line in report.lines():
        typer.echo(f"  {line}")


def load_sample(url: str) -> None:
    """The bundled format sample (for the demo; not real courses)."""
    from matcher.competence.courses import SAMPLE_CSV

    if not SAMPLE_CSV.is_file():  # an install without the sample: the demo runs without it
        typer.echo("no sample course catalogue in this install; guidance will list no courses")
        return
    load(url, SAMPLE_CSV)


@courses_app.command("load")
@friendly
def courses_load(
    file: Path = typer.Argument(..., help="CSV: source_ref,title,provider,url,language,"
                                "duration_hours,skill_uris (URIs separated by |)."),
) -> None:  # fmt: skip
    """Load (or update) courses from a CSV file, in one transaction.

    Rerunnable: courses are matched by source_ref. Unknown ESCO skill URIs are
    reported and skipped; a malformed row stops the load with nothing written.
    """
    load(database_url(), file)
