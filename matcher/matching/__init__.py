"""The hot path: open vacancies near a point (the in-memory replica, the spatial index, the PostGIS
queries), offer kinds and the hard rules, the one scorer, ranking, reach.
"""
