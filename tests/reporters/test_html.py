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


def test_groups_carry_filter_attributes_and_expandable_instances(sample_report: Report) -> None:
    out = html_reporter.render(sample_report)
    parsed = _parse(out)
    sections = [a for t, a in parsed.tags if t == "section"]
    assert [(a["data-severity"], a["data-rule"]) for a in sections] == [
        ("critical", "SD101"),
        ("critical", "SD201"),
        ("critical", "SD303"),
        ("high", "SD202"),
        ("medium", "SD402"),
        ("low", "SD406"),
        ("low", "SD503"),
    ]
    assert sections[0]["id"].startswith("SD101-")
    assert "<details><summary>All 3 instances</summary><ol>" in out
    assert out.count("<li><code>GET ") >= 3


def test_rule_filter_is_grouped_by_family(sample_report: Report) -> None:
    parsed = _parse(html_reporter.render(sample_report))
    legends: list[str] = []
    boxes: list[tuple[str | None, str | None]] = []
    for tag, attrs in parsed.tags:
        if tag == "input":
            boxes.append((attrs["name"], attrs["value"]))
    assert boxes == [
        *[("severity", s) for s in ("critical", "high", "medium", "low", "info")],
        ("rule", "SD101"),
        *[("rule", r) for r in ("SD201", "SD202")],
        ("rule", "SD303"),
        *[("rule", r) for r in ("SD402", "SD406")],
        ("rule", "SD503"),
        ("state", "suppressed"),
    ]
    out = html_reporter.render(sample_report)
    for legend in (
        "SD1xx transport",
        "SD2xx authentication and authorization",
        "SD3xx data exposure",
        "SD4xx leakage",
        "SD5xx conformance",
    ):
        assert f"<legend>{legend}</legend>" in out
        legends.append(legend)
    assert out.index(legends[0]) < out.index(legends[-1])


def test_first_screen_shows_the_most_severe_distinct_groups(sample_report: Report) -> None:
    out = html_reporter.render(sample_report)
    top = out[out.index("<h2>Most severe distinct groups") : out.index("<h2>Coverage")]
    rows = top.split("<tr>")[2:]
    assert [r.split("<td>")[2].split("<")[0] for r in rows] == [
        "SD101",
        "SD201",
        "SD303",
        "SD202",
        "SD402",
        "SD406",
        "SD503",
    ]
    assert out.index("Most severe distinct groups") < out.index("<section")


def test_score_and_coverage_table_shown(sample_report: Report) -> None:
    out = html_reporter.render(sample_report)
    assert 'class="grade-F">0 · F</b>' in out
    assert "<h2>Coverage: 6 operations, 2 not fully judged</h2>" in out
    assert out.count('<tr class="partial">') == 2
    assert "unsafe method; pass --unsafe\\x1b[8m" in out
    assert "risk score 0/100, grade F." in out


def test_suppressed_groups_are_marked(sample_report: Report) -> None:
    out = html_reporter.render(suppressed(sample_report, "SD406"))
    parsed = _parse(out)
    sd406 = next(a for t, a in parsed.tags if t == "section" and a["data-rule"] == "SD406")
    assert sd406["data-suppressed"] == "1"
    assert sd406["class"] == "finding low suppressed"
    assert "1 of 1 suppressed (baseline): accepted &lt;/script&gt; @team #1 by baseline" in out
