"""docs/threat-model.md names, for every attack, the tests that perform it; those tests exist."""

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
DOC = ROOT / "docs" / "threat-model.md"
REFERENCE = re.compile(r"`((?:tests/[\w/]+\.py)|…)(?:::(\w+))?`")


def attack_rows() -> list[str]:
    return [line for line in DOC.read_text().splitlines() if line.startswith("| **")]


def named_tests(row: str) -> list[tuple[str, str | None]]:
    """(file, test) for each reference of a row; `…::name` is in the file named before it."""
    found, current = [], ""
    for path, name in REFERENCE.findall(row):
        current = current if path == "…" else path
        found.append((current, name or None))
    return found


def test_every_attack_names_a_test():
    rows = attack_rows()
    assert len(rows) >= 20
    assert [row[:60] for row in rows if not named_tests(row)] == []


def test_every_named_test_exists():
    missing = []
    for row in attack_rows():
        for path, name in named_tests(row):
            source = ROOT / path
            if not source.is_file() or (name and not re.search(rf"^def {name}\(", source.read_text(), re.M)):
                missing.append(f"{path}::{name}")
    assert missing == []


def test_the_check_itself_catches_a_missing_test():
    row = "| **x** | y | `tests/test_threat_model.py::test_every_named_test_exists`, `…::no_such_test` |"
    found = named_tests(row)
    assert found == [
        ("tests/test_threat_model.py", "test_every_named_test_exists"),
        ("tests/test_threat_model.py", "no_such_test"),
    ]
    assert not re.search(r"^def no_such_test\(", Path(__file__).read_text(), re.M)
