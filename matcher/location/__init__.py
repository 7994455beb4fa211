"""Places without personal data: geocoding, postcode and town suggestions, the coarse area of a
vacancy for statistics.
"""
