"""Find the source folders in the landing directory and convert them to canonical files.

A source folder is any sub-folder of the landing directory holding a `source.yml`:

A Salesforce or HubSpot source lands verbatim first (raw_salesforce.<object>,
raw_hubspot.<object>, orchestration/lib/crm_landing.py); it may name a synced schema instead of
files (`schema:`, optional `database:`). It is not converted here: its business rules are dbt
models (RULES_IN_DBT: intermediate/crm/int_salesforce__*, intermediate/crm_hubspot/
int_hubspot__*), which bring its rows to the marts.

```yaml
type: salesforce          # salesforce | hubspot | mapping
source_system: salesforce # optional, default: the folder name; prefixes every id
# ...options of the source type (see docs/load_your_own_exports in the README)
```

Each other source is converted to canonical CSV files under `<converted_dir>/<source_system>/`,
with the original file and row kept as lineage, and then loaded like canonical landing files.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib.canonical_schema import ENTITIES
from orchestration.lib.input_files import load_yaml, refuse_outside
from orchestration.sources.base import Conversion, MappingError, write_conversion

SOURCE_FILE = "source.yml"
# Source type -> the module describing it (its `convert`, unless its rules run in dbt).
CONVERTERS = {
    "salesforce": "orchestration.sources.salesforce",
    "hubspot": "orchestration.sources.hubspot",
    "mapping": "orchestration.sources.mapping",
}
# Source types whose objects land verbatim in raw_<type> and whose business rules run in dbt
# (intermediate/crm, intermediate/crm_hubspot): there is no Python converter for them
# (convert_sources skips them).
RULES_IN_DBT = frozenset({"salesforce", "hubspot"})
RESERVED = {"canonical", *ENTITIES}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class SourceFolder:
    folder: Path
    config: dict
    source_type: str
    source_system: str


def _read_config(path: Path, landing_dir: Path | None = None) -> dict:
    """source.yml: at most 1 MiB, UTF-8, aliases expanding to at most 100,000 values."""
    config = load_yaml(path, MappingError, landing_dir) or {}
    if not isinstance(config, dict):
        raise MappingError(f"{path}: expected a mapping of keys, e.g. 'type: salesforce'.")
    return config


def discover_sources(landing_dir: Path) -> list[SourceFolder]:
    """Every sub-folder of the landing directory with a source.yml, in name order."""
    if not landing_dir.is_dir():
        return []
    sources = discover_sources_in(sorted(landing_dir.glob(f"*/{SOURCE_FILE}")), landing_dir)
    names = [s.source_system for s in sources]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise MappingError(
            f"{landing_dir}: several source folders use source_system {', '.join(duplicates)}; "
            "give each a distinct source_system in its source.yml."
        )
    return sources


def discover_sources_in(paths: list[Path], landing_dir: Path) -> list[SourceFolder]:
    """The source folders of these source.yml files (each checked and read safely)."""
    sources = []
    for path in paths:
        refuse_outside(path.parent, landing_dir, MappingError, "source folder")
        config = _read_config(path, landing_dir)
        source_type = str(config.get("type", "")).strip()
        if source_type not in CONVERTERS:
            raise MappingError(
                f"{path}: 'type' is {source_type or 'missing'}; set it to one of "
                f"{', '.join(sorted(CONVERTERS))}."
            )
        system = str(config.get("source_system") or path.parent.name).strip().lower()
        if not _NAME.match(system) or system in RESERVED:
            raise MappingError(
                f"{path}: source_system '{system}' must be lower-case letters, digits and _ "
                f"and not one of {', '.join(sorted(RESERVED))}; set source_system in the file."
            )
        sources.append(SourceFolder(path.parent, config, source_type, system))
    return sources


def precheck_sources(landing_dir: Path) -> list[str]:
    """Every problem of every source.yml (symlink out, size, YAML bomb, not YAML, bad type or
    source_system), collected instead of stopping at the first; empty when none."""
    if not landing_dir.is_dir():
        return []
    problems = []
    for path in sorted(landing_dir.glob(f"*/{SOURCE_FILE}")):
        try:
            discover_sources_in([path], landing_dir)
        except MappingError as error:
            problems.append(str(error))
    if not problems:
        try:
            discover_sources(landing_dir)
        except MappingError as error:
            problems.append(str(error))
    return problems


def converter_for(source_type: str) -> Callable[[Path, dict, str], Conversion]:
    if source_type in RULES_IN_DBT:
        raise MappingError(
            f"{source_type} sources have no Python converter: they land verbatim and their "
            "rules are dbt models (intermediate/crm)."
        )
    module = importlib.import_module(CONVERTERS[source_type])
    return module.convert


def convert_sources(
    landing_dir: Path,
    converted_dir: Path,
    progress: Callable[[str], None] | None = None,
) -> list[Conversion]:
    """Convert every source folder; write `<converted_dir>/<source_system>/<entity>.csv`.

    A Salesforce or HubSpot source is never converted: it is landed verbatim (land_crm) and its
    rules are dbt models (RULES_IN_DBT)."""
    conversions = []
    keep = set()
    for source in discover_sources(landing_dir):
        if source.source_type in RULES_IN_DBT:
            # Landed verbatim (land_crm); the dbt models int_<crm>__<entity> apply the rules
            # and int_canonical__<entity> bring the rows to the marts: nothing to convert.
            continue
        convert = converter_for(source.source_type)
        conversion = convert(source.folder, source.config, source.source_system)
        out_dir = converted_dir / source.source_system
        write_conversion(conversion, out_dir)
        keep.add(out_dir)
        conversions.append(conversion)
        if progress:
            rows = sum(len(frame) for frame in conversion.frames.values())
            progress(
                f"{source.source_system} ({source.source_type}): {len(conversion.files)} files, "
                f"{rows:,} canonical rows, {len(conversion.rejects):,} rejected input rows"
            )
    if converted_dir.is_dir():  # sources removed from the landing directory
        for stale in converted_dir.iterdir():
            if stale.is_dir() and stale not in keep:
                for file in stale.glob("*.csv"):
                    file.unlink()
    return conversions
