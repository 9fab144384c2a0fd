"""The architecture holds: imports point one way (DESIGN.md) and no other installed
distribution provides one of our top-level package names."""
from __future__ import annotations

import ast
import importlib.metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = ("config", "events", "rules", "engine", "handlers", "devices", "crm", "commerce", "analytics",
        "conversations", "community", "integrations", "web")
ALLOWED = {
    "config": set(),
    "events": {"config"},
    "rules": {"events", "config"},
    "crm": {"rules", "events", "config"},
    "devices": {"events", "config"},
    # Domains beside crm (DESIGN.md): commerce sells, analytics counts what everyone else did, so it
    # reads commerce and the device records (friends added, moments posted) but nothing reads it back.
    "commerce": {"crm", "rules", "events", "config"},
    "analytics": {"commerce", "devices", "crm", "rules", "events", "config"},
    # Conversations happen on the phones' accounts: the store links messages to device friends and groups
    # and a reply is a device command, so conversations reads devices (devices never reads it back: the
    # gateway is handed the message store as a report sink). community counts group activity from those
    # messages and device group records; integrations (WeCom, 公众号) store their messages as conversations.
    "conversations": {"devices", "crm", "rules", "events", "config"},
    "community": {"conversations", "commerce", "devices", "crm", "rules", "events", "config"},
    "integrations": {"conversations", "devices", "crm", "rules", "events", "config"},
    "handlers": {"commerce", "analytics", "conversations", "community", "integrations", "crm", "devices", "events",
                 "config"},
    "engine": {"rules", "handlers", "commerce", "analytics", "conversations", "community", "integrations", "crm",
               "events", "config"},
    "web": set(OURS),
}


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import (absolute imports only)"
            if node.module:
                found.add(node.module.split(".")[0])
    return found & set(OURS)


def test_imports_point_one_way():
    violations = []
    for package in OURS:
        for path in sorted((ROOT / package).rglob("*.py")):
            for imported in _imported_packages(path):
                if imported != package and imported not in ALLOWED[package]:
                    violations.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert violations == [], "imports against DESIGN.md's direction:\n" + "\n".join(violations)


def test_only_matcher_imports_durable_rules():
    offenders = []
    for package in OURS:
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if ("import durable" in text or "from durable" in text) and not path.match("engine/matcher*/*.py") and not path.match("engine/matcher*.py"):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_no_installed_distribution_shadows_our_packages():
    providers = importlib.metadata.packages_distributions()
    clashes = {name: providers[name] for name in OURS if name in providers and set(providers[name]) != {"cunkebao"}}
    assert clashes == {}, f"other distributions provide our top-level names: {clashes}"


def test_our_packages_resolve_to_this_checkout():
    import importlib

    for name in OURS:
        module = importlib.import_module(name)
        assert Path(module.__file__).resolve().parent == ROOT / name
