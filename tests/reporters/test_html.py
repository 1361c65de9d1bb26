"""The self-contained HTML report: escaped, offline, filterable, evidence expandable."""

from __future__ import annotations

from html.parser import HTMLParser

from specdiff.model import Report
from specdiff.reporters import html as html_reporter

from .conftest import suppressed


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def _parse(out: str) -> _Collector:
    collector = _Collector()
    collector.feed(out)
    collector.close()
    return collector


def test_one_script_and_it_carries_no_data(sample_report: Report) -> None:
    out = html_reporter.render(sample_report)
    parsed = _parse(out)
    assert len(parsed.scripts) == 1
    assert parsed.scripts[0] == html_reporter._SCRIPT
    assert out.count("</script>") == 1  # the server's </script> is text: &lt;/script&gt;
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt;" in out


def test_self_contained_and_offline(sample_report: Report) -> None:
    parsed = _parse(html_reporter.render(sample_report))
    for tag, attrs in parsed.tags:
        assert "src" not in attrs, tag
        assert "href" not in attrs, tag
    csp = next(a for t, a in parsed.tags if t == "meta" and a.get("http-equiv"))
    assert csp["content"] is not None and csp["content"].startswith("default-src 'none'")


def test_findings_carry_filter_attributes_and_expandable_evidence(sample_report: Report) -> None:
    parsed = _parse(html_reporter.render(sample_report))
    sections = [a for t, a in parsed.tags if t == "section"]
    assert [(a["data-severity"], a["data-rule"]) for a in sections] == [
        ("critical", "SD201"),
        ("critical", "SD303"),
        ("high", "SD202"),
        ("medium", "SD402"),
        ("low", "SD406"),
    ]
    boxes = [(a["name"], a["value"]) for t, a in parsed.tags if t == "input"]
    assert boxes == [
        *[("severity", s) for s in ("critical", "high", "medium", "low", "info")],
        *[("rule", r) for r in ("SD201", "SD202", "SD303", "SD402", "SD406")],
        ("state", "suppressed"),
    ]
    assert sum(1 for t, _ in parsed.tags if t == "details") == 4  # SD202 has no evidence


def test_score_and_coverage_shown(sample_report: Report) -> None:
    out = html_reporter.render(sample_report)
    assert 'class="grade-F">0 · F</b>' in out
    assert "<h2>Not probed (2)</h2>" in out
    assert "unsafe method; pass --unsafe\\x1b[8m" in out


def test_suppressed_findings_are_marked(sample_report: Report) -> None:
    out = html_reporter.render(suppressed(sample_report, "SD406"))
    parsed = _parse(out)
    sd406 = next(a for t, a in parsed.tags if t == "section" and a["data-rule"] == "SD406")
    assert sd406["data-suppressed"] == "1"
    assert sd406["class"] == "finding low suppressed"
    assert "Suppressed (baseline): accepted &lt;/script&gt; @team #1 by baseline" in out
