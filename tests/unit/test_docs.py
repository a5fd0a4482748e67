"""The docs stay true to the code: configuration table, set-up commands, feature links, links, permissions."""
from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from commsinbox.domain.model.values import Permission, Role
from commsinbox.domain.policies.permissions import ROLE_PERMISSIONS
from commsinbox.entrypoints.config import VARIABLES

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)


def _markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def _prose(text: str) -> str:
    """The text without fenced code blocks and inline code, where brackets are not links."""
    return _INLINE_CODE.sub("", _FENCE.sub("", text))


def _links(text: str) -> list[str]:
    prose = _prose(text)
    return [*_LINK.findall(prose), *_REFERENCE.findall(prose)]


def _section(text: str, heading: str) -> str:
    """The body of the `## heading` section, up to the next heading of the same or a higher level."""
    match = re.search(rf"^(#+)\s+{re.escape(heading)}\s*$", text, re.MULTILINE)
    assert match, f"no section {heading!r}"
    level = len(match.group(1))
    rest = text[match.end():]
    end = re.search(rf"^#{{1,{level}}}\s", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def _table(section: str, first_header: str) -> list[list[str]]:
    """Rows (cells stripped) of the first markdown table in `section` whose first header is `first_header`."""
    lines = section.splitlines()
    for index, line in enumerate(lines):
        cells = _cells(line)
        if cells and cells[0] == first_header:
            assert re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", lines[index + 1].strip()), "table has no separator row"
            rows = [cells]
            for row in lines[index + 2:]:
                if not row.strip().startswith("|"):
                    break
                rows.append(_cells(row))
            return rows
    raise AssertionError(f"no table starting with column {first_header!r}")


def _cells(line: str) -> list[str]:
    line = line.strip()
    if not line.startswith("|"):
        return []
    parts = re.split(r"(?<!\\)\|", line.strip("|"))
    return [html.unescape(part.strip().replace("\\|", "|")) for part in parts]


def _unquote(cell: str) -> str:
    return cell[1:-1] if len(cell) >= 2 and cell[0] == cell[-1] == "`" else cell


# -- README ----------------------------------------------------------------------------------------------


def test_readme_configuration_table_lists_every_variable_with_its_default_and_secrecy() -> None:
    rows = _table(_section(README.read_text(), "Configuration"), "variable")
    assert rows[0][:4] == ["variable", "default", "expected format", "secret"]
    documented = {_unquote(r[0]): r for r in rows[1:]}
    names = [v.name for v in VARIABLES]
    assert sorted(documented) == sorted(names), "regenerate the README table from config.VARIABLES"
    for variable in VARIABLES:
        _, default, expected, secret = documented[variable.name][:4]
        assert _unquote(default) == (variable.default if variable.default is not None else "—"), variable.name
        assert expected.startswith(variable.expected), variable.name
        assert (variable.required_when is not None) == ("required when" in expected), variable.name
        assert secret == ("yes" if variable.secret else "no"), variable.name


def test_readme_mentions_the_legacy_baileys_spelling() -> None:
    assert "BAILLEYS_ENCRYPTION_KEY" in README.read_text()


def test_readme_quick_start_is_make_serve_and_make_test() -> None:
    quick_start = _section(README.read_text(), "Quick start")
    blocks = re.findall(r"^```sh\n(.*?)^```", quick_start, re.MULTILINE | re.DOTALL)
    commands = [line.strip() for block in blocks for line in block.splitlines()
                if line.strip() and not line.strip().startswith("#")]
    assert commands == ["make serve", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^serve:", makefile, re.MULTILINE) and re.search(r"^test:", makefile, re.MULTILINE)


def test_every_feature_file_is_linked_from_the_readme() -> None:
    linked = {(ROOT / link.split("#")[0]).resolve() for link in _links(README.read_text())}
    features = sorted((ROOT / "features").glob("*.feature"))
    assert features, "no features/*.feature files found"
    missing = [f.relative_to(ROOT).as_posix() for f in features if f.resolve() not in linked]
    assert not missing, f"link these from the README's Capabilities: {missing}"


# -- every markdown file -----------------------------------------------------------------------------------


@pytest.mark.parametrize("page", _markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_point_to_existing_files(page: Path) -> None:
    broken = []
    for link in _links(page.read_text()):
        if re.match(r"^[a-z][a-z0-9+.-]*:", link, re.IGNORECASE) or link.startswith("#"):
            continue  # http:, https:, mailto: ... and anchors within the page
        target, _, anchor = link.partition("#")
        path = page.parent / target
        if not path.exists():
            broken.append(link)
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path.read_text()):
            broken.append(link)
    assert not broken, f"{page.relative_to(ROOT)} links to missing files or headings: {broken}"


def _anchors(text: str) -> set[str]:
    """GitHub-style heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+\s+(.+?)\s*$", _FENCE.sub("", text), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def test_the_link_checker_sees_links_and_skips_code() -> None:
    text = 'see [a](docs/a.md#x) and ![b](pic.png "title")\n```\n[not](a/link.md)\n```\n`[nor](this.md)`\n[r]: ref.md\n'
    assert _links(text) == ["docs/a.md#x", "pic.png", "ref.md"]


# -- docs/tenancy.md ---------------------------------------------------------------------------------------


def test_tenancy_permission_table_matches_role_permissions() -> None:
    rows = _table(_section((DOCS / "tenancy.md").read_text(), "Roles and permissions"), "permission")
    header, body = rows[0], rows[1:]
    roles = [Role(name) for name in header[1:]]
    assert set(roles) == set(ROLE_PERMISSIONS), "one column per role of ROLE_PERMISSIONS"
    listed = [_unquote(r[0]) for r in body]
    assert sorted(listed) == sorted(p.value for p in Permission), "one row per Permission"
    for row in body:
        permission = Permission(_unquote(row[0]))
        for role, cell in zip(roles, row[1:], strict=True):
            assert cell in ("yes", "—"), f"{permission.value}/{role.value}: write yes or —"
            assert (cell == "yes") == (permission in ROLE_PERMISSIONS[role]), f"{permission.value} for {role.value}"
