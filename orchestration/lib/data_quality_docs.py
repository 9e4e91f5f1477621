"""The README table of data-quality rules, rendered from seeds/data_quality_rules.csv.

`python -m orchestration.cli metrics` rewrites the block between the markers
`<!-- data-quality-rules:start` and `<!-- data-quality-rules:end -->`; a test fails while the
README and the seed disagree.
"""

from __future__ import annotations

import csv
from pathlib import Path

from orchestration.lib.settings import REPO_ROOT

RULES_SEED = REPO_ROOT / "seeds" / "data_quality_rules.csv"
START = "<!-- data-quality-rules:start (generated from seeds/data_quality_rules.csv) -->"
END = "<!-- data-quality-rules:end -->"


def rules_table(seed: Path = RULES_SEED) -> str:
    """The Markdown table: rule, entity, severity, threshold, what it is kept out of, what to do."""
    lines = [
        "| rule | entity | severity | blocks when flagged share > | kept out of | what to do |",
        "|---|---|---|---|---|---|",
    ]
    with seed.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            share = row["max_flagged_share"].strip()
            threshold = f"{float(share):.0%}" if share else "never"
            lines.append(
                f"| `{row['rule_code']}` | {row['entity']} | {row['severity']} | {threshold} | "
                f"{row['excluded_from']} | {row['what_to_do']} |"
            )
    return "\n".join(lines)


def render_readme(readme: str, seed: Path = RULES_SEED) -> str:
    """`readme` with the rules block replaced by the table of the seed."""
    head, rest = readme.split("<!-- data-quality-rules:start", 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{rules_table(seed)}\n{END}{tail}"


def write_readme(readme: Path = REPO_ROOT / "README.md") -> Path:
    """Rewrite the README's rules block from the seed; return the README's path."""
    readme.write_text(render_readme(readme.read_text(encoding="utf-8")), encoding="utf-8")
    return readme
