"""ESCO in memory and its loaders: the taxonomy, the CSV import, our easy-Danish vocabulary,
occupation profiles, and typed-letter search over labels.
"""
