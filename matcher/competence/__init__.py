"""Competence guidance: which skill unlocks more jobs nearby, and courses per skill."""
