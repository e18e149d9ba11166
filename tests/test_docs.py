"""The method notes in docs/ are what the code cites: every cited section exists, every link resolves."""

from __future__ import annotations

import re

import pytest

from ecgjepa_core.paths import REPO_ROOT

DOCS = REPO_ROOT / "docs"
# "docs/method_kim.md §2–§3, §6" or "[docs/data.md](docs/data.md) §1": the doc, then its section numbers.
CITATION = re.compile(r"docs/(\w+)\.md(?:\]\([^)]*\))?((?:[ ,–-]*§\d+)+)")
SOURCES = [*sorted((REPO_ROOT / "ecgjepa_core").rglob("*.py")), *sorted((REPO_ROOT / "tests").rglob("*.py")),
           *sorted((REPO_ROOT / "scripts").glob("*")), *sorted((REPO_ROOT / "notebooks").glob("*.py")),
           REPO_ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def _sections(doc: str) -> set[int]:
    text = (DOCS / f"{doc}.md").read_text()
    return {int(n) for n in re.findall(r"^## §(\d+) ", text, flags=re.MULTILINE)}


def test_docs_exist_with_numbered_sections():
    for doc in ("method_kim", "data", "protocols"):
        found = sorted(_sections(doc))
        assert found == list(range(1, len(found) + 1)) and len(found) >= 7, (doc, found)


def test_every_cited_section_exists():
    missing = []
    for path in SOURCES:
        if not path.is_file():
            continue
        for doc, numbers in CITATION.findall(path.read_text()):
            if not (DOCS / f"{doc}.md").is_file():
                missing.append((path.name, f"docs/{doc}.md"))
                continue
            absent = {int(n) for n in re.findall(r"§(\d+)", numbers)} - _sections(doc)
            missing += [(path.name, f"docs/{doc}.md §{n}") for n in sorted(absent)]
    assert not missing


@pytest.mark.parametrize("doc", sorted(p.name for p in DOCS.glob("*.md")))
def test_relative_links_resolve(doc):
    text = (DOCS / doc).read_text()
    for target in re.findall(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)", text):
        assert (DOCS / target).is_file(), f"{doc} links to missing {target}"


def test_no_reference_to_files_users_do_not_have():
    cited = [p.relative_to(REPO_ROOT).as_posix() for p in SOURCES
             if p.is_file() and p.name != "test_docs.py" and "METHOD_SPEC" in p.read_text()]
    assert cited == [], "cite docs/ instead of the study's internal spec"
