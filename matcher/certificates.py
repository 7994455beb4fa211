"""Certificates that gate jobs: a vacancy may require them, a seeker may hold them.

They are not ESCO concepts (ESCO describes skills, not Danish permits), so the
list is ours. Codes are stable API values; labels are for the apps.
"""

from __future__ import annotations

CERTIFICATES: dict[str, dict[str, str]] = {
    "driving_licence_b": {"da": "Kørekort B", "en": "Driving licence B"},
    "driving_licence_c": {"da": "Kørekort C", "en": "Driving licence C"},
    "forklift": {"da": "Truckcertifikat", "en": "Forklift certificate"},
    "hygiene": {"da": "Hygiejnebevis", "en": "Food hygiene certificate"},
    "first_aid": {"da": "Førstehjælpsbevis", "en": "First aid certificate"},
    "lifeguard": {"da": "Livredderprøve", "en": "Lifeguard certificate"},
    "security_guard": {"da": "Vagtkort", "en": "Security guard card"},
    "alcohol_serving": {"da": "Alkoholbevilling (kursus)", "en": "Responsible alcohol serving"},
    "moped": {"da": "Knallertkørekort", "en": "Moped licence"},
    "criminal_record_child": {"da": "Børneattest", "en": "Child protection record check"},
}
