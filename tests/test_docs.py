"""README and docs stay a short, self-contained, linkable documentation set.

- README.md is a newcomer's page (it is also the package's index page):
  at most 260 lines.
- Every relative link in README.md and docs/**/*.md points to a file of the
  repository, and a `#fragment` to a heading of that file.
- No path of the machine a document was written on (`/work/...`,
  `../shared`) in README.md or docs: commands use placeholders.
- No citation of material outside the repository ("spec §x", "spec 2.4",
  "issue 8", a DESIGN document) in any *.py or *.md file.
"""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
MAX_README_LINES = 260

_SKIP_DIRS = {".git", ".pytest_cache", "__pycache__", "build", "dist",
              "node_modules", ".venv", "venv"}
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LOCAL_PATH = re.compile(r"/work/|\.\./shared")
_CITATION = re.compile(
    r"\bspec(?:\s+sheet|\s+pitfall)?\s*(?:§|\d)"   # spec §1.6, spec 2.4, spec sheet §1
    r"|\bissue\s*#?\d"                               # issue 8, issue #8
    r"|\bDESIGN\b|DESIGN\.md",                       # the design document
    re.IGNORECASE)


def _files(pattern):
    for path in sorted(ROOT.rglob(pattern)):
        parts = path.relative_to(ROOT).parts
        if any(p in _SKIP_DIRS or p.endswith(".egg-info") for p in parts):
            continue
        yield path


def _doc_files():
    return [ROOT / "README.md"] + list(_files("docs/**/*.md"))


def _without_code_blocks(text):
    """Lines outside fenced code blocks, with their 1-based numbers."""
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        if _FENCE.match(line):
            inside = not inside
            continue
        if not inside:
            yield number, line


def _slug(heading):
    """GitHub's anchor for a heading text."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path):
    anchors, seen = set(), {}
    for _, line in _without_code_blocks(path.read_text(encoding="utf-8")):
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            slug = _slug(match.group(1))
            count = seen.get(slug, 0)
            anchors.add(slug if count == 0 else f"{slug}-{count}")
            seen[slug] = count + 1
    return anchors


def _rel(path):
    return path.relative_to(ROOT).as_posix()


def test_readme_is_short():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, (
        f"README.md has {len(lines)} lines (at most {MAX_README_LINES}); "
        "move detail into docs/ and link it.")


@pytest.mark.parametrize("doc", _doc_files(), ids=_rel)
def test_relative_links_resolve(doc):
    broken = []
    for number, line in _without_code_blocks(doc.read_text(encoding="utf-8")):
        for target in _LINK.findall(line):
            if re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
                continue                                   # http:, mailto:, ...
            file_part, _, fragment = target.partition("#")
            linked = (doc.parent / file_part).resolve() if file_part else doc
            if not linked.exists():
                broken.append(f"{_rel(doc)}:{number}: {target} (no such file)")
            elif fragment and linked.suffix == ".md" and (
                    fragment.lower() not in _anchors(linked)):
                broken.append(f"{_rel(doc)}:{number}: {target} "
                              f"(no heading #{fragment} in {linked.name})")
    assert not broken, "\n".join(broken)


def test_no_local_paths_in_docs():
    found = [f"{_rel(doc)}:{number}: {line.strip()}"
             for doc in _doc_files()
             for number, line in enumerate(
                 doc.read_text(encoding="utf-8").splitlines(), 1)
             if _LOCAL_PATH.search(line)]
    assert not found, ("Use placeholders ($RUNS, $CAMVID, $DATA), not paths "
                       "of one machine:\n" + "\n".join(found))


def test_no_citations_of_material_outside_the_repo():
    this_file = pathlib.Path(__file__).resolve()
    found = []
    for pattern in ("*.py", "*.md"):
        for path in _files(pattern):
            if path.resolve() == this_file:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            found += [f"{_rel(path)}:{number}: {line.strip()}"
                      for number, line in enumerate(text.splitlines(), 1)
                      if _CITATION.search(line)]
    assert not found, ("Cite the paper section or say what is meant in words "
                       "(the spec/issue/design documents are not in the "
                       "repository):\n" + "\n".join(found))
