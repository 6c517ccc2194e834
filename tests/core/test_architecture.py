"""The import direction of DESIGN.md, checked on every module of the package."""

import ast
from pathlib import Path

import aicommons

PACKAGE = Path(aicommons.__file__).parent
DOMAIN_ORDER = [
    "members",
    "communities",
    "insights",
    "concerns",
    "events",
    "journeys",
    "datasets",
    "problems",
    "federation",
    "governance",
]
PEERS = {"insights", "concerns", "events", "journeys"}  # side by side: none imports another


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return {name for name in found if name.startswith("aicommons.")}


def top(name: str) -> str:
    return name.split(".")[1]


def modules():
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).parts
        if len(parts) > 1 and parts[0] != "migrations":
            yield parts[0], path


def allowed(source: str, target: str, target_module: str) -> bool:  # noqa: PLR0911 (one rule a line)
    """May a module of package `source` import `target_module` (of package `target`)?"""
    if source == "sdk" or target == "sdk":
        return target == "sdk" or source == "cli"
    if target in {source, "core"}:
        return True
    if source in {"core", "web"}:
        return False
    if target in {"web", "ledger"}:  # web/ holds only view helpers built on core
        return source != "ledger" or target == "ledger"
    if target in {"app", "cli", "demo"} or source == "ledger":
        return source == "cli" and target != "cli"
    if source == "cli":
        return True
    earlier = DOMAIN_ORDER.index(target) < DOMAIN_ORDER.index(source) and not {source, target} <= PEERS
    return earlier and not target_module.endswith(".views")


def test_imports_flow_one_way():
    wrong = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for source, path in modules()
        for name in imports_of(path)
        if not allowed(source, top(name), name)
    ]
    assert wrong == []


def test_the_check_itself_catches_a_wrong_import():
    assert not allowed("core", "members", "aicommons.members.service")
    assert not allowed("members", "communities", "aicommons.communities.service")
    assert not allowed("communities", "members", "aicommons.members.views")
    assert not allowed("sdk", "core", "aicommons.core.config")
    assert not allowed("ledger", "members", "aicommons.members.models")
    assert not allowed("web", "members", "aicommons.members.auth")
    assert not allowed("insights", "concerns", "aicommons.concerns.service")
    assert allowed("communities", "members", "aicommons.members.service")
    assert allowed("cli", "sdk", "aicommons.sdk")
