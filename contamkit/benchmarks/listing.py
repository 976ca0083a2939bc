"""What ``python cli.py benchmarks`` shows: each benchmark's splits and variants, and where
their files are found without downloading."""

from __future__ import annotations

from pathlib import Path

from contamkit.benchmarks.locate import find_local
from contamkit.benchmarks.registry import REGISTRY


def local_status() -> list[dict[str, str]]:
    """One row per benchmark, variant and split; ``found`` is a path or "-" (not local)."""
    rows = []
    for bench in REGISTRY.values():
        if bench.locate is not None:  # files come from --bench-path only
            rows.append({"benchmark": bench.name, "variant": bench.variants[0], "split": "any",
                         "found": "(--bench-path)"})
            continue
        for spec in bench.variant_specs:
            for split, files in spec.files.items():
                row = {"benchmark": bench.name, "variant": spec.name, "split": split}
                rows.append({**row, "found": _where(find_local(bench.name, files))})
    return rows


def _where(found: list[Path] | None) -> str:
    """The file, or for a many-file split (1BW train) the folder of the first one."""
    if found is None:
        return "-"
    return str(found[0] if len(found) == 1 else found[0].parent)


def benchmark_table() -> str:
    """The rows above as an aligned text table, with each benchmark's description."""
    rows = local_status()
    head = {"benchmark": "benchmark", "variant": "variant", "split": "split", "found": "found at"}
    width = {k: max(len(r[k]) for r in [head, *rows]) for k in ("benchmark", "variant", "split")}
    lines = []
    for r in [head, *rows]:
        lines.append("  ".join(r[k].ljust(width[k]) for k in width) + "  " + r["found"])
    lines.append("")
    lines += [f"{b.name}: {b.description}; example = {b.example}" for b in REGISTRY.values()]
    return "\n".join(lines)
