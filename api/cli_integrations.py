"""`jotr integration`: municipalities' case systems (docs/integrations.md)."""

from __future__ import annotations

import asyncio
import re
import uuid

import typer

from api.cli_common import CliError, database_url, friendly

integration_app = typer.Typer(help="Case systems of municipalities (events and webhooks).")


async def _create(url: str, name: str, municipality: str) -> tuple[uuid.UUID, str]:
    from matcher.db import make_engine, make_sessionmaker
    from matcher.people import accounts

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            integration, token = await accounts.create_integration(session, name, municipality)
            await session.commit()
            return integration.id, token
    finally:
        await engine.dispose()


@integration_app.command("create")
@friendly
def integration_create(
    name: str = typer.Option(..., help="What the system is, e.g. 'Aarhus Jobcenter, Momentum'."),
    municipality: str = typer.Option(..., help="Kommunekode, four digits (0751 is Aarhus)."),
) -> None:
    """Create an integration and print its token (shown only this once)."""
    if not re.fullmatch(r"\d{4}", municipality):
        raise CliError("--municipality must be a four-digit kommunekode, e.g. 0751")
    integration_id, token = asyncio.run(_create(database_url(), name, municipality))
    typer.echo(f"integration id: {integration_id}")
    typer.echo(f"token:          {token}")
    typer.secho("Store the token now: it is not shown again.", err=True, fg=typer.colors.YELLOW)
