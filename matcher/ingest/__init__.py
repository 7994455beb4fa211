"""Importing job ads from external feeds (docs/jobnet-feed.md).

`jobnet_mapping` knows the feed format, `feed_client` fetches with retries,
`concepts` turns extracted ESCO suggestions into skill columns, `store` holds the
SQL and `importer` runs it, one page per transaction with its cursor.
"""
