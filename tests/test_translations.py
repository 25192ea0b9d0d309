"""Every catalogue is complete and compiles (F-I18N-1): nl, de and es translate every English message."""

import re
import subprocess
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def entries(po_file):
    """(msgid, [msgstr...]) pairs of a .po file, header and obsolete entries left out."""
    text = po_file.read_text(encoding="utf-8")
    result = []
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith("#")]
        current, parts = None, {}
        for line in lines:
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                current = match.group(1)
                parts[current] = match.group(2)
            elif line.startswith('"') and current:
                parts[current] += line[1:-1]
        if parts.get("msgid"):
            result.append((parts["msgid"], [v for k, v in parts.items() if k.startswith("msgstr")]))
    return result


@pytest.mark.parametrize("language", ["nl", "de", "es"])
def test_catalogue_is_complete(language):
    english = {msgid for msgid, _ in entries(LOCALE / "en/LC_MESSAGES/django.po")}
    translated = entries(LOCALE / f"{language}/LC_MESSAGES/django.po")
    assert {msgid for msgid, _ in translated} == english
    missing = [msgid for msgid, strings in translated if not all(strings)]
    assert missing == []
    assert "#, fuzzy" not in (LOCALE / f"{language}/LC_MESSAGES/django.po").read_text().split("msgid", 2)[2]


@pytest.mark.parametrize("language", ["nl", "en", "de", "es"])
def test_catalogue_compiles(language, tmp_path):
    po = LOCALE / f"{language}/LC_MESSAGES/django.po"
    subprocess.run(["msgfmt", "--check", "-o", str(tmp_path / "django.mo"), str(po)], check=True)
