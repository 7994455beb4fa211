"""What every `jotr` command shares: finding the database and failing clearly."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NoReturn, ParamSpec, TypeVar

import typer

from matcher.settings import get_settings
from ops.embedded_pg import ClusterError

P = ParamSpec("P")
R = TypeVar("R")


class CliError(Exception):
    """An expected failure; the message tells the user what to do."""


def fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(1)


def friendly(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn the failures a user can fix into one clear line and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            explain(exc)
            raise  # a bug: the traceback is the useful output

    return wrapper


def explain(exc: Exception) -> None:
    """Fail with a clear message if `exc` is a failure the user can fix; else return."""
    # Imported here, on failure only: they cost most of a second at start-up.
    import psycopg
    import sqlalchemy.exc

    from matcher.esco.esco_import import EscoImportError
    from ops.demo_seed import DemoSeedError

    if isinstance(exc, CliError | ClusterError | DemoSeedError | EscoImportError):
        fail(str(exc))
    unreachable = psycopg.OperationalError | sqlalchemy.exc.OperationalError | ConnectionError
    if isinstance(exc, unreachable):
        fail(f"{first_line(exc)}\n{db_hint()}")
    if isinstance(exc, OSError):  # a file or port we could not use
        fail(str(exc))


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def db_hint() -> str:
    settings = get_settings()
    if settings.database_url:
        return f"Is the database in DATABASE_URL ({redacted(settings.database_url)}) up?"
    return "The embedded database is not running: start it with `jotr db up` (or set DATABASE_URL)."


def database_url() -> str:
    """The URL every command uses, after checking that the database answers."""
    import psycopg

    from ops.demo_seed import libpq_url
    from ops.embedded_pg import resolve_database_url

    url = resolve_database_url(get_settings())
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=5):
            pass
    except psycopg.OperationalError as exc:
        raise CliError(
            f"cannot connect to {redacted(url)}: {first_line(exc)}\n{db_hint()}"
        ) from None
    return url
