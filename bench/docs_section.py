"""Writing a benchmark's table into docs/benchmarks.md between its markers."""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def write_section(name: str, heading: str, section: str, docs: Path = DOCS) -> None:
    """Replace what stands between `<!-- name:start -->` and `<!-- name:end -->`,
    or add the section under `heading` at the end when the markers are missing."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if not docs.exists():
        docs.parent.mkdir(parents=True, exist_ok=True)
        docs.write_text("# Benchmarks\n")
    body = docs.read_text()
    block = f"{start}\n{section}\n{end}"
    if start in body and end in body:
        pre, rest = body.split(start, 1)
        body = pre + block + rest.split(end, 1)[1]
    else:
        body = body.rstrip("\n") + f"\n\n## {heading}\n\n" + block + "\n"
    docs.write_text(body)
