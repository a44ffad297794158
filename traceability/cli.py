"""`ionto-trace`: check, review, report, reqif, site-check.

The root (repository) defaults to the current directory; `--root DIR` or the
IONTO_TRACE_ROOT environment variable point elsewhere (tests use a copy).
Exit codes: 0 ok; 1 check failed (errors); 2 usage error (unknown id, bad option).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from traceability import ROOT_ENV
from traceability.outwrite import OutputRefused, refuse_links


def _root(args: argparse.Namespace) -> Path:
    return Path(args.root or os.environ.get(ROOT_ENV) or ".").resolve()


def _path(value: str | None) -> Path | None:
    """An option's path: relative to the current directory, like any command's."""
    return None if value is None else Path(value).resolve()


def cmd_check(args: argparse.Namespace) -> int:
    from traceability.check import run_check
    root = _root(args)
    t0 = time.perf_counter()
    a = run_check(root, _path(args.results), _path(args.verification), static=args.static)
    errors, warnings = a.errors, a.warnings
    if args.quiet:
        shown = errors
    else:
        shown = warnings + errors
    for f in shown:
        print(f)
    if args.warnings_as_errors and warnings:
        errors = errors + warnings
    reqs = a.project.reqs
    verified = sum(1 for r in reqs if a.status.get(r) == "verified")
    implemented = sum(1 for r in reqs.values() if r.status == "implemented")
    print(f"ionto-trace check: {len(reqs)} requirements ({implemented} implemented, {verified} verified), "
          f"{len(a.project.hazards)} hazards, {len(a.project.controls)} controls, {len(a.tests)} test results; "
          f"{len(errors)} error(s), {len(warnings)} warning(s) in {time.perf_counter() - t0:.2f} s"
          + (" [static: test results not read]" if args.static else ""))
    return 1 if errors else 0


def cmd_review(args: argparse.Namespace) -> int:
    from traceability.data import LOCK, load_project
    from traceability.lock import review
    root = _root(args)
    if not args.ids and not args.all:
        print("ionto-trace review: name the ids to review, or --all", file=sys.stderr)
        return 2
    project = load_project(root)
    errors = [f for f in project.findings if f.level == "error"]
    if errors:
        for f in errors:
            print(f, file=sys.stderr)
        print("ionto-trace review: fix the data errors above first", file=sys.stderr)
        return 1
    try:
        done = review(project, args.ids, everything=args.all, note=args.note or "")
    except KeyError as exc:
        print(f"ionto-trace review: unknown id(s): {exc.args[0]}", file=sys.stderr)
        return 2
    print(f"reviewed {len(done)} item(s) and their links; recorded in {LOCK}")
    return 0


# Top-level folders whose files are records or sources (inputs, under version
# control): never an output folder, even where a clone does not track one yet.
# Every other tracked top-level folder is refused too (read from git); out/ is
# ignored by .gitignore and never tracked.
RECORD_DIRS = ("problems", "docs", "spec", "hazard_analysis", "cext", "core", "tests", "traceability", "scripts")


def _git_lines(repo: Path, *args: str) -> list[str]:
    try:
        run = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return []
    return run.stdout.splitlines() if run.returncode == 0 else []


def _within(path: Path, folder: Path) -> bool:
    """Case-insensitive: on a case-insensitive file system `.Git/x` is .git/x (audit finding 10)."""
    low, top = [x.lower() for x in path.parts], [x.lower() for x in folder.parts]
    return low[:len(top)] == top


def _main_clone(repo: Path) -> Path | None:
    """The main clone's folder when `repo` is a linked worktree (its common git directory is <main>/.git)."""
    common = _git_lines(repo, "rev-parse", "--git-common-dir")
    if not common:
        return None
    main = (repo / common[0]).resolve()
    return main.parent if main.name == ".git" and main.parent != repo else None


def _records_problem(named: str, out: Path, clone: Path, of_main: bool = False) -> str | None:
    """Why `out` may not be written in `clone`: the clone itself or above it, or a records folder of it."""
    if out == clone or out in clone.parents:
        return f"{named} is the repository or contains it: name a folder inside it such as out/docs"
    if not _within(out, clone):
        return None
    top = out.parts[len(clone.parts)]
    tracked_tops = {line.split("/", 1)[0].lower() for line in _git_lines(clone, "ls-files") if "/" in line}
    if top.lower() in {d.lower() for d in RECORD_DIRS} | tracked_tops:
        where = f" of the main clone {clone}" if of_main else ""
        return (f"{named} is inside {top}/{where}, a folder of records and sources under version control "
                "(tracked or not yet): name a folder of its own such as out/docs")
    return None


def _out_problem(root: Path, out_text: str) -> str | None:
    """Why an output folder must not be written, or None: never the repository
    itself, an ancestor of it, the git directory, a records folder or a folder
    holding tracked files (`docs --out docs` overwrote docs/architecture.md, an
    input; issue 10 review; PR-052: .git/ and problems/docs were accepted).
    The folder is resolved first, so a symlink or `..` does not hide where it is;
    folder names compare case-insensitively, and from a worktree the main
    clone's records folders are refused too (audit finding 10)."""
    if not out_text.strip():
        return "--out is empty: name a folder to write, e.g. out/docs"
    out, repo = Path(out_text).resolve(), root.resolve()
    named = f"--out {out_text}" + (f" (resolves to {out})" if Path(out_text).absolute() != out else "")
    if out == repo or out in repo.parents:
        return f"{named} is the repository or contains it: name a folder inside it such as out/docs"
    git_dirs = {repo / ".git"} | {(repo / d).resolve() for d in _git_lines(
        repo, "rev-parse", "--git-dir", "--git-common-dir")}
    inside_git = next((g for g in sorted(git_dirs) if _within(out, g)), None)
    if inside_git is not None:
        return f"{named} is inside the git directory {inside_git}: name a folder of its own such as out/docs"
    tracked = _git_lines(repo, "ls-files", "--", str(out))
    if tracked:
        return (f"{named} holds files under version control ({tracked[0]}, ...): name a folder of its own "
                "such as out/docs")
    main = _main_clone(repo)
    return _records_problem(named, out, repo) or (main and _records_problem(named, out, main, of_main=True)) or None


def _link_problem(out_text: str) -> str | None:
    """Audit finding 1 of issue 10: a link inside the folder would lead a write
    into a record; the folder is refused before anything is written."""
    try:
        refuse_links(Path(out_text).resolve())
    except OutputRefused as exc:
        return f"--out {out_text}: {exc}"
    return None


def cmd_report(args: argparse.Namespace) -> int:
    from traceability.check import run_check_for_report
    from traceability.report import write_report
    root = _root(args)
    problem = _out_problem(root, args.out) or _link_problem(args.out)
    if problem:
        print(f"ionto-trace report: error: {problem}", file=sys.stderr)
        return 1
    a = run_check_for_report(root, _path(args.results), _path(args.verification))
    try:
        index = write_report(a, Path(args.out).resolve())
    except (OSError, OutputRefused) as exc:   # a link made meanwhile
        print(f"ionto-trace report: error: cannot write the report to {args.out}: {exc}", file=sys.stderr)
        return 1
    print(f"report: {index}")
    print(f"verdict: {a.verdict} ({len(a.errors)} check error(s), {len(a.warnings)} warning(s))")
    for x in a.pending:
        print(f"  not yet verified: {x}")
    return 0


def cmd_reqif(args: argparse.Namespace) -> int:
    from traceability.data import load_project
    from traceability.reqif_export import write_reqif
    root = _root(args)
    project = load_project(root)
    out = Path(args.out).resolve()
    write_reqif(project, out)
    print(f"reqif: {out} ({len(project.needs)} user needs, {len(project.reqs)} requirements)")
    return 0


def cmd_site_check(args: argparse.Namespace) -> int:
    from traceability.sitecheck import ChromiumMissing, check_site, read_verdict
    site = Path(args.site).resolve()
    if not (site / "index.html").is_file():
        print(f"ionto-trace: error: {site}/index.html not found: run `ionto-trace report --out {args.site}` first",
              file=sys.stderr)
        return 2
    try:
        r = check_site(site)
    except ChromiumMissing as exc:
        print(f"ionto-trace: error: {exc}", file=sys.stderr)
        return 2
    for x in r.problems:
        print(f"ERROR: {x}")
    verdict = read_verdict(site)
    print(f"site-check: {r.page_count} pages, {r.files} files, {r.size_bytes / 1024:.0f} KiB, loaded in "
          f"headless Chromium in {r.seconds:.1f} s; {len(r.problems)} problem(s); report verdict: {verdict}")
    bad = bool(r.problems)
    if args.expect_verdict and verdict != args.expect_verdict:
        print(f"ERROR: the report's verdict is {verdict}, expected {args.expect_verdict}")
        bad = True
    return 1 if bad else 0


def cmd_docs(args: argparse.Namespace) -> int:
    """The IEC 62304 class C documentation set (SRS-180); exit 1 when a record does not load."""
    from traceability.check import run_check_for_report
    try:
        from traceability.docs.build import write_docs
    except ImportError as exc:   # Jinja2 is in the report extra, not on a device
        print(f"ionto-trace: error: the documents need the report extra (pip install 'ionto-core[report]'): {exc}",
              file=sys.stderr)
        return 1
    root = _root(args)
    problem = _out_problem(root, args.out) or _link_problem(args.out)
    if problem:
        print(f"ionto-trace docs: error: {problem}", file=sys.stderr)
        return 1
    a = run_check_for_report(root, _path(args.results), _path(args.verification))
    try:
        r = write_docs(root, Path(args.out).resolve(), a)
    except OutputRefused as exc:
        print(f"ionto-trace docs: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"ionto-trace: error: cannot write the documents to {args.out}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    if r.git_problem:
        print(f"ionto-trace docs: warning: revision history unavailable: {r.git_problem}", file=sys.stderr)
    if r.truncated:
        print(f"ionto-trace docs: warning: {r.truncated}", file=sys.stderr)
    for e in r.errors:
        print(f"ERROR: {e}")
    print(f"docs: {r.out}/index.html (commit {r.commit}); {len(r.documents)} documents, HTML and Markdown:")
    for d in r.documents:
        size = sum(n for _, n in d.files)
        print(f"  {d.id + '.html/.md':28} {size / 1024:7.1f} KiB  IEC 62304 {d.clause:12} from {', '.join(d.sources)}")
    print(f"verdict of the check behind them: {a.verdict}")
    return 1 if r.errors else 0


def _version() -> str:
    import importlib.metadata as md
    try:
        return md.version("ionto-core")
    except md.PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="ionto-trace", description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit codes: 0 ok; 1 check failed (errors) or site problems; 2 usage error\n\n"
               "examples:\n  ionto-trace check\n  ionto-trace check --results out/test-results/junit.xml\n"
               "  ionto-trace review SRS-014\n  ionto-trace report --out out/report\n"
               "  ionto-trace site-check out/report --expect-verdict PASSED\n"
               "  ionto-trace reqif --out out/requirements.reqif")
    ap.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    ap.add_argument("--root", help="repository root (default: $IONTO_TRACE_ROOT or the current directory)")
    sub = ap.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="validate data, links, evidence and risk acceptability")
    c.add_argument("--results", metavar="FILE",
                   help="test results: the plugin's JSON or pytest's JUnit XML (*.xml, with "
                        "<property name=\"verifies\">) (default: out/test-results/results.json)")
    c.add_argument("--verification", help="verifier results JSON (default out/verification/results.json)")
    c.add_argument("--static", action="store_true",
                   help="do not read test results: data, links and test markers only (before the tests run)")
    c.add_argument("--quiet", "-q", action="store_true", help="show errors only")
    c.add_argument("--warnings-as-errors", action="store_true")
    c.set_defaults(func=cmd_check)

    r = sub.add_parser("review", help="record the review of items: re-stamp their fingerprints and links")
    r.add_argument("ids", nargs="*", metavar="ID")
    r.add_argument("--all", action="store_true", help="review every item (baseline)")
    r.add_argument("--note", help="a note kept in the review log")
    r.set_defaults(func=cmd_review)

    p = sub.add_parser("report", help="write the audit report: a site (index.html and one page per part) "
                                      "and report.md")
    p.add_argument("--out", default="out/report", metavar="DIR",
                   help="output directory, never inside .git/ or a records folder (default: %(default)s)")
    p.add_argument("--results", metavar="FILE", help="test results, JSON or JUnit XML "
                                                     "(default: out/test-results/results.json)")
    p.add_argument("--verification", metavar="FILE",
                   help="verifier results (default: out/verification/results.json)")
    p.set_defaults(func=cmd_report)

    q = sub.add_parser("reqif", help="export the requirements and the risk file as ReqIF")
    q.add_argument("--out", required=True, metavar="FILE", help="the .reqif file to write (required)")
    q.set_defaults(func=cmd_reqif)

    d = sub.add_parser("docs", help="write the IEC 62304 class C documentation set (HTML and Markdown), "
                                    "each document with its clause, the commit and its revision history")
    d.add_argument("--out", default="out/docs", metavar="DIR",
                   help="output directory, never inside .git/ or a records folder (default: %(default)s)")
    d.add_argument("--results", metavar="FILE", help="test results, JSON or JUnit XML "
                                                     "(default: out/test-results/results.json)")
    d.add_argument("--verification", metavar="FILE",
                   help="verifier results (default: out/verification/results.json)")
    d.set_defaults(func=cmd_docs)

    w = sub.add_parser("site-check", help="load every page of a report in headless Chromium: fail on a "
                                          "broken link, a missing image or a console error")
    w.add_argument("site", metavar="DIR", help="the report directory (from `report --out DIR`)")
    w.add_argument("--expect-verdict", choices=["PASSED", "FAILED", "NOT YET VERIFIED"],
                   help="also fail unless the report's verdict is this one")
    w.set_defaults(func=cmd_site_check)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
