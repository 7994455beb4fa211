"""One window for stored vacancy dates, read the same way by every reader.

PostgreSQL stores dates Python cannot hold: `infinity` decodes to `date.max`,
and a year past 9999 does not decode at all, which fails the whole query that
meets the row. The API and the importer never write such dates
(matcher/posting/vacancies.py checks a far narrower range); these keep a row written
some other way (by hand, by an old version, by a restore) harmless: outside the
window a date reads as unknown (NULL).

- `SANE_START_SQL` / `SANE_EXPIRY_SQL`: the expressions the hot path's raw SQL
  selects (matcher/matching/geo.py), for a vacancy aliased `v`;
- `SaneDate` / `SaneTimestamp`: the same window for every ORM read of the
  column (a vacancy's own page, its owner's list), through SQLAlchemy's
  `column_expression`, so a bad date costs its field, never the request.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, DateTime, case, literal_column, null
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

# A stored start date further than this from today is treated as unknown.
START_WINDOW_DAYS = 3650
EXPIRY_WINDOW = "10 years"

SANE_START_SQL = (
    f"CASE WHEN v.start_date BETWEEN current_date - {START_WINDOW_DAYS} "
    f"AND current_date + {START_WINDOW_DAYS} THEN v.start_date END"
)
SANE_EXPIRY_SQL = (
    f"CASE WHEN v.expires_at BETWEEN now() - interval '{EXPIRY_WINDOW}' "
    f"AND now() + interval '{EXPIRY_WINDOW}' THEN v.expires_at END"
)


class SaneDate(TypeDecorator[dt.date]):
    """A `date` column read as NULL outside today ± START_WINDOW_DAYS."""

    impl = Date
    cache_ok = True

    def column_expression(self, colexpr: ColumnElement[Any]) -> ColumnElement[Any]:
        low = literal_column(f"current_date - {START_WINDOW_DAYS}", Date)
        high = literal_column(f"current_date + {START_WINDOW_DAYS}", Date)
        return case((colexpr.between(low, high), colexpr), else_=null()).label(None)


class SaneTimestamp(TypeDecorator[dt.datetime]):
    """A `timestamptz` column read as NULL outside now() ± EXPIRY_WINDOW."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def column_expression(self, colexpr: ColumnElement[Any]) -> ColumnElement[Any]:
        low = literal_column(f"now() - interval '{EXPIRY_WINDOW}'", DateTime(timezone=True))
        high = literal_column(f"now() + interval '{EXPIRY_WINDOW}'", DateTime(timezone=True))
        return case((colexpr.between(low, high), colexpr), else_=null()).label(None)
