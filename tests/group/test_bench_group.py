"""The group benchmark script on a tiny dataset: it runs end to end against a real server and
writes its section of docs/benchmarks.md in place, leaving the rest of the file as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.group import GROUP_END, GROUP_START, main

pytestmark = pytest.mark.slow

REPORT = """# Benchmarks

| figure | ours |
|---|---|

<!-- analysis:start -->
## Targets not met, and why
<!-- analysis:end -->

## How each figure is measured
"""


def test_the_group_bench_writes_its_section_inside_the_kept_analysis(
    pg_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "benchmarks.md"
    out.write_text(REPORT)
    args = ["--scale", "smoke", "--copies", "2", "--runs", "1", "--pg", pg_url,
            "--data-dir", str(tmp_path / "data"), "--out", str(out)]
    assert main(args) == 0
    text = out.read_text()
    # Inside the analysis part, which `python -m bench.run` keeps when it rewrites the file.
    assert text.index("<!-- analysis:start -->") < text.index(GROUP_START)
    assert text.index(GROUP_END) < text.index("<!-- analysis:end -->")
    section = text[text.index(GROUP_START):text.index(GROUP_END)]
    for figure in ("first sync of one clinic", "sync with nothing new", "incremental sync",
                   "group scorecard over 2 clinics"):
        assert figure in section
    assert section.count("x |") == 4  # each figure has its floor and ratio
    assert text.replace(section, "").replace(GROUP_END, "").replace("\n", "") == \
        REPORT.replace("\n", "")
    # A second run replaces the section instead of adding one.
    assert main(args) == 0
    assert out.read_text().count(GROUP_START) == 1
