"""docs/ARCHITECTURE.md's layers table is the law of imports: every import of the package, including those inside
functions, points to a lower row (the table is read from the document, so the two cannot drift apart)."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "qboost_tn"


def layers() -> dict[str, int]:
    """Package -> row in the table (0 = top)."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    return {name: row for row, line in enumerate(rows) for name in re.findall(r"`(\w+)`", line.split("|")[2])}


def owner(parts) -> str | None:
    """The top-level package or module of ``qboost_tn`` a dotted path falls in (None for the package face)."""
    return parts[0] if parts else None


def imports(path: Path):
    """``(line, imported qboost_tn path as parts)`` of every import in ``path``."""
    package = path.relative_to(PACKAGE).with_suffix("").parts[:-1]  # what a relative import starts from
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(package[:len(package) - node.level + 1])
            yield node.lineno, tuple(base + (node.module.split(".") if node.module else []))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "qboost_tn":
            yield node.lineno, tuple(node.module.split(".")[1:])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "qboost_tn":
                    yield node.lineno, tuple(alias.name.split(".")[1:])


def test_the_table_names_every_package():
    table = layers()
    found = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()}
    assert found == set(table), f"in the code, not the table: {found - set(table)}; the reverse: {set(table) - found}"


def test_imports_point_down_the_layers():
    table = layers()
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        source = owner(parts[:-1] if path.name == "__init__.py" else parts)
        if source is None:
            continue  # the package face: lazy exports named as strings
        for line, target in imports(path):
            target = owner(target)
            if target is not None and target != source and table[target] <= table[source]:
                upward.append(f"{path.relative_to(ROOT)}:{line}: {source} (row {table[source]}) imports {target} "
                              f"(row {table[target]})")
    assert not upward, "\n".join(upward)
