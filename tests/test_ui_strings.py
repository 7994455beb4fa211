"""The apps' words: every feature adds its strings from its own module
(`api/static/js/strings/*.js`, `addStrings` in `i18n.js`), which throws in the
browser when two features define one key. This finds such a clash before a
browser does, and checks that each module says everything in both languages.

The modules are plain object literals (`da: {"key": "…", …}, en: {…}`), so the
keys are read with a pattern rather than a JavaScript parser.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parents[1] / "api" / "static" / "js"
KEY = re.compile(r'^\s*"([^"]+)"\s*:', re.M)
LANGS = ("da", "en")


def keys_by_lang(path: Path) -> dict[str, list[str]]:
    """The keys of the `da: {…}` and `en: {…}` blocks of one file."""
    text = path.read_text(encoding="utf-8")
    starts = {lang: re.search(rf"^\s*{lang}: \{{", text, re.M) for lang in LANGS}
    assert all(starts.values()), f"{path.name}: no da/en blocks"
    da, en = starts["da"], starts["en"]
    assert da is not None and en is not None
    return {"da": KEY.findall(text[da.end() : en.start()]), "en": KEY.findall(text[en.end() :])}


STRING_MODULES = sorted((JS / "strings").glob("*.js"))


@pytest.mark.parametrize("path", STRING_MODULES, ids=lambda p: p.name)
def test_a_feature_says_everything_in_danish_and_english(path: Path) -> None:
    keys = keys_by_lang(path)
    assert keys["da"], path.name
    for lang in LANGS:
        twice = [k for k, n in Counter(keys[lang]).items() if n > 1]
        assert not twice, f"{path.name} ({lang}) defines twice: {twice}"
    assert set(keys["da"]) == set(keys["en"]), (
        f"{path.name}: only in da {sorted(set(keys['da']) - set(keys['en']))}, "
        f"only in en {sorted(set(keys['en']) - set(keys['da']))}"
    )


def test_no_two_features_define_one_key() -> None:
    owners: dict[str, list[str]] = {}
    for path in [JS / "i18n.js", *STRING_MODULES]:
        for key in set(keys_by_lang(path)["da"]):
            owners.setdefault(key, []).append(path.name)
    clashes = {k: files for k, files in owners.items() if len(files) > 1}
    assert not clashes, f"keys defined by more than one module (addStrings throws): {clashes}"
