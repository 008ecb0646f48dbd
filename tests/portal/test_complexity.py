"""Views, selectors and the API stay readable: no function or method in a page, read or API module is above
radon's grade C (cyclomatic complexity 20). A view that grows past it is split into its GET part, its POST
part and helpers; a selector into the reads it is made of."""

from pathlib import Path

from radon.complexity import cc_visit

ROOT = Path(__file__).resolve().parents[2]
APPS = ("reporting", "indicators", "evaluation", "institutions", "audit", "portal", "outbox")
LIMIT = 20


def _watched(path: Path) -> bool:
    name = path.name
    return name in {"views.py", "selectors.py", "pages.py", "api.py"} or name.endswith("_views.py")


def _modules() -> list[Path]:
    return sorted(
        path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if _watched(path) and "migrations" not in path.parts
    )


def _blocks(code: str):
    """Every function and method, closures and methods of nested classes included (radon scores a closure
    on its own, not as part of the function around it)."""
    pending = list(cc_visit(code))
    while pending:
        block = pending.pop()
        if hasattr(block, "methods"):  # a class: its methods are scored, not the class as a whole
            pending.extend(block.methods)
            pending.extend(block.inner_classes)
        else:
            pending.extend(block.closures)
            yield block


def test_the_watched_modules_are_found():
    found = {path.relative_to(ROOT).as_posix() for path in _modules()}
    assert {
        "reporting/views.py",
        "indicators/campaign_views.py",
        "evaluation/views.py",
        "portal/api.py",
        "indicators/pages.py",
        "evaluation/pages.py",
    } <= found


def test_no_view_selector_or_api_function_is_above_complexity_c():
    offenders = []
    for path in _modules():
        name = path.relative_to(ROOT).as_posix()
        for block in _blocks(path.read_text(encoding="utf-8")):
            if block.complexity > LIMIT:
                offenders.append(f"{name}:{block.lineno} {block.fullname} ({block.complexity})")
    assert not offenders, f"above complexity {LIMIT} (split into GET/POST parts and helpers): " + "; ".join(
        offenders
    )
