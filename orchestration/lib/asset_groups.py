"""Asset groups along the data's path, so that the collapsed graph reads left to right.

landing -> raw -> staging -> intermediate -> core -> marts -> published

- landing: the files in the landing folder (external assets: nothing here materialises them).
- raw: what is loaded as it is: the raw tables, the landed CRM objects, the seeds (reference).
- staging, intermediate: the dbt folders `models/staging`, `models/intermediate`.
- core, marts: the dbt folders `models/marts/core` (facts, dimensions), `models/marts/kpi`.
- published: the file BI tools read.

The path rule for dbt nodes: a node sits in the group of its folder, or in the latest group of
the nodes it reads when that is later (an intermediate model reading a core fact is drawn with
core; a snapshot, which has no folder group, sits with what it reads). So no group is ever
drawn downstream of a later one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

GROUP_ORDER = ("landing", "raw", "staging", "intermediate", "core", "marts", "published")
LANDING, RAW, STAGING, INTERMEDIATE, CORE, MARTS, PUBLISHED = GROUP_ORDER
RANK = {name: rank for rank, name in enumerate(GROUP_ORDER)}

# models/<folder>/... -> group; models/marts/<area>/... by area.
_FOLDER_GROUPS = {"staging": STAGING, "intermediate": INTERMEDIATE}
_MARTS_AREA_GROUPS = {"core": CORE, "kpi": MARTS}


def folder_group(node: Mapping[str, Any]) -> str | None:
    """The group a dbt node's own folder (its fqn) puts it in; None for a snapshot."""
    kind = node["resource_type"]
    if kind in ("seed", "source"):
        return RAW
    if kind != "model":
        return None
    fqn = node.get("fqn", [])
    folder = fqn[1] if len(fqn) > 2 else None
    if folder == "marts":
        return _MARTS_AREA_GROUPS.get(fqn[2] if len(fqn) > 3 else "", MARTS)
    return _FOLDER_GROUPS.get(folder or "", INTERMEDIATE)


def dbt_groups(manifest: Mapping[str, Any]) -> dict[str, str]:
    """The group of every model, seed and snapshot of a dbt manifest, by unique id (path rule
    above); dbt sources are the raw tables of the ingestion assets (group raw)."""
    nodes = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed", "snapshot")
    }
    groups: dict[str, str] = {uid: RAW for uid in manifest.get("sources", {})}

    def group(uid: str, visiting: frozenset[str] = frozenset()) -> str:
        if uid in groups:
            return groups[uid]
        node = nodes[uid]
        parents = [
            group(parent, visiting | {uid})
            for parent in node.get("depends_on", {}).get("nodes", [])
            if parent in nodes or parent in groups
            if parent not in visiting
        ]
        candidates = [g for g in (folder_group(node), *parents) if g is not None]
        groups[uid] = max(candidates, key=RANK.__getitem__) if candidates else INTERMEDIATE
        return groups[uid]

    for uid in nodes:
        group(uid)
    return {uid: name for uid, name in groups.items() if uid in nodes}
