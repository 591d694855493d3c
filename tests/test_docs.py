"""The documentation stays true to the code: the configuration reference is generated, the README stays short,
and no link points nowhere."""

from __future__ import annotations

import re
from pathlib import Path

from voiceagent.config import REFERENCE_COMMAND, Settings, settings_reference_markdown

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
CONFIGURATION = DOCS / "configuration.md"
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)


def test_the_configuration_reference_is_generated_from_the_settings():
    assert CONFIGURATION.exists(), f"docs/configuration.md is missing: run `{REFERENCE_COMMAND}`"
    assert CONFIGURATION.read_text(encoding="utf-8") == settings_reference_markdown(), (
        f"docs/configuration.md does not match the settings in config.py: run `{REFERENCE_COMMAND}`")


def test_every_setting_is_in_the_configuration_reference():
    text = CONFIGURATION.read_text(encoding="utf-8")
    missing = [name.upper() for name in Settings.model_fields if f"| `{name.upper()}` |" not in text]
    assert not missing, f"settings missing from docs/configuration.md: {missing}; run `{REFERENCE_COMMAND}`"


def test_the_reference_never_shows_a_secret_default():
    text = CONFIGURATION.read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        if "SecretStr" in str(field.annotation):
            row = next(line for line in text.splitlines() if line.startswith(f"| `{name.upper()}` |"))
            assert row.split("|")[2].strip().startswith("(secret"), row


def test_the_readme_is_short_and_starts_with_two_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 160, f"README.md has {len(lines)} lines; move the detail to docs/"
    start = lines.index("```bash") + 1
    end = lines.index("```", start)
    commands = [line.split("#", 1)[0].strip() for line in lines[start:end]]
    assert [command for command in commands if command] == ["make serve", "make test"]


def _relative_links(path: Path) -> list[str]:
    text = _CODE.sub("", path.read_text(encoding="utf-8"))  # links inside code are not links
    return [target for target in _LINK.findall(text)
            if not re.match(r"[a-z][a-z0-9+.-]*:", target) and not target.startswith("#")]


def test_every_relative_link_points_to_a_file_that_exists():
    pages = [README, *sorted(DOCS.glob("*.md"))]
    broken = [f"{page.relative_to(ROOT)} -> {target}" for page in pages for target in _relative_links(page)
              if not (page.parent / target.split("#", 1)[0]).exists()]
    assert not broken, "links to files that do not exist:\n" + "\n".join(broken)
    assert sum(len(_relative_links(page)) for page in pages) > 0
