"""The report site in headless Chromium (SRS-108): every page loads without a broken
link, a missing image or a console error, and the offline search finds an id.

Chromium is required, never skipped: `bash scripts/dev.sh setup` installs it."""
from __future__ import annotations

import pytest

from traceability.sitecheck import check_site, find_chromium, read_verdict

CSV = ("t_s,state,target_mA,reference_mA,current_mA,peak_mA,voltage_V,polarity,fault\n"
       "0.00,ramp,15,0.0,0.0,0.0,0.0,1,NONE\n0.01,treat,15,15,15.0,15.1,30.0,1,NONE\n")


@pytest.fixture(scope="module")
def chromium() -> str:
    return find_chromium()   # raises (the test errors) when absent: nothing is skipped silently


@pytest.mark.req("SRS-108", "SRS-107")
def test_the_whole_report_loads_in_chromium_without_a_problem(repo, tmp_path, capsys, chromium):
    repo.write("out/demo-trace.csv", CSV)
    site = tmp_path / "site"
    rc, msg = repo.run(capsys, "report", "--out", str(site))
    assert rc == 0, msg
    result = check_site(site, chromium)
    assert result.problems == []
    assert result.page_count == len(list(site.glob("*.html"))) >= 8
    assert read_verdict(site) == "PASSED"


PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title><link rel="icon" href="data:,">
</head><body><p id="here">x</p>{body}</body></html>"""


CASES = [
    ('<a href="b.html#nowhere">x</a>', "broken link 'b.html#nowhere': no element with id 'nowhere' in b.html"),
    ('<a href="gone.html">x</a>', "broken link 'gone.html': gone.html does not exist"),
    ('<img src="gone.png" alt="">', "missing img 'gone.png'"),
    ('<img src="bad.png" alt="">', "image 'bad.png' is not a PNG"),
    ('<script>undefinedFunction();</script>', "console: \"Uncaught ReferenceError: undefinedFunction"),
    ('<script>console.error("boom")</script>', 'console: "boom"'),
    ('<script src="gone.js"></script>', "missing script 'gone.js'"),
]


@pytest.mark.req("SRS-108")
def test_each_kind_of_problem_fails_the_check_on_its_page(tmp_path, chromium, capsys):
    from traceability.cli import main
    (tmp_path / "index.html").write_text(PAGE.format(body='<span class="verdict v-passed">PASSED</span>'))
    (tmp_path / "b.html").write_text(PAGE.format(body='<a href="index.html#here">back</a>'))
    (tmp_path / "bad.png").write_text("not a png")
    for n, (body, _) in enumerate(CASES):
        (tmp_path / f"p{n}.html").write_text(PAGE.format(body=body))
    result = check_site(tmp_path, chromium)
    for n, (_, problem) in enumerate(CASES):
        assert any(p.startswith(f"p{n}.html: ") and problem in p for p in result.problems), (problem, result.problems)
    assert not any(p.startswith(("index.html", "b.html")) for p in result.problems), result.problems
    assert len(result.problems) == len(CASES)


@pytest.mark.req("SRS-108")
def test_site_check_command_exit_codes_and_verdict(tmp_path, chromium, capsys):
    from traceability.cli import main
    (tmp_path / "index.html").write_text(PAGE.format(body='<span class="verdict v-passed">PASSED</span>'
                                                        '<a href="b.html#x">x</a>'))
    (tmp_path / "b.html").write_text(PAGE.format(body=""))
    capsys.readouterr()
    assert main(["site-check", str(tmp_path), "--expect-verdict", "PASSED"]) == 1
    out = capsys.readouterr().out
    assert "ERROR: index.html: broken link 'b.html#x'" in out and "1 problem(s); report verdict: PASSED" in out
    (tmp_path / "b.html").unlink()
    (tmp_path / "index.html").write_text(PAGE.format(body='<span class="verdict v-passed">PASSED</span>'))
    assert main(["site-check", str(tmp_path), "--expect-verdict", "FAILED"]) == 1
    assert "the report's verdict is PASSED, expected FAILED" in capsys.readouterr().out
    assert main(["site-check", str(tmp_path / "nowhere")]) == 2
