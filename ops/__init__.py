"""Operator tooling outside the domain: the embedded PostGIS cluster and the demo data."""
