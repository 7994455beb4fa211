"""Configuration, read once from the environment (12-factor).

Every knob has a safe default so `jotr serve` works on a laptop; production sets
`DATABASE_URL` and friends. Names are prefixed `JOTR_` except the conventional
`DATABASE_URL` and `REDIS_URL`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path.home() / ".local" / "share" / "jotr"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOTR_", extra="ignore")

    # None means "use the embedded local cluster" (see matcher/embedded_pg.py).
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "JOTR_DATABASE_URL")
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("REDIS_URL", "JOTR_REDIS_URL"),
    )
    home: Path = Field(default_factory=_default_home)
    embedded_port: int = 54329

    db_pool_size: int = 10
    db_max_overflow: int = 10

    # Public nearby search and match radius limits (metres). Above 50 km the
    # "jobs near me" idea stops making sense and the query gets expensive.
    max_radius_m: float = 50_000.0
    default_radius_m: float = 5_000.0
    max_limit: int = 100

    max_body_bytes: int = 64 * 1024
    log_level: str = "INFO"
    log_json: bool = True


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
