"""Load every page of the audit report in headless Chromium and check it.

For each *.html page in the report directory, Chromium loads it from disk
(`--headless --dump-dom`, console logged with `--enable-logging=stderr`), runs
its scripts and prints the resulting DOM. A page fails on:
  - a console message (an error in the page's script, a resource that did not load);
  - a link (`<a href>`) to a page that does not exist or to an anchor (`#id`)
    that is not in that page's DOM;
  - an image, script or stylesheet that is missing or empty, or an image that
    is not a PNG or an SVG that parses.
The search page is also loaded with a query (`search.html?q=ID`) for an id
taken from the search index, and must list a link to that id's home.

Developer tool: needs Chromium (Debian package `chromium`), never the core.
"""
from __future__ import annotations

import concurrent.futures as cf
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CONSOLE = re.compile(r":CONSOLE(?:\(\d+\)|:\d+)?\]\s*(.*)$")
TIMEOUT_S = 60


class ChromiumMissing(RuntimeError):
    pass


def find_chromium() -> str:
    env = os.environ.get("CHROMIUM")
    if env:
        return env
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise ChromiumMissing("headless Chromium not found (Debian package `chromium`; "
                          "`bash scripts/dev.sh setup` installs it), or set CHROMIUM=/path")


class _Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.resources: list[tuple[str, str]] = []   # (tag, url)

    def handle_starttag(self, tag: str, attrs) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("href") is not None:
            self.links.append(a["href"])
        elif tag == "img" and a.get("src") is not None:
            self.resources.append(("img", a["src"]))
        elif tag == "script" and a.get("src"):
            self.resources.append(("script", a["src"]))
        elif tag == "link" and a.get("rel") == "stylesheet" and a.get("href"):
            self.resources.append(("stylesheet", a["href"]))


@dataclass
class PageResult:
    page: str
    dom: str = ""
    console: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class SiteResult:
    pages: list[PageResult]
    problems: list[str]
    seconds: float
    page_count: int
    size_bytes: int
    files: int


def _load(chromium: str, url: str, profile: str) -> tuple[str, list[str], str]:
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-extensions", "--disable-background-networking", "--allow-file-access-from-files",
           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
           "--virtual-time-budget=5000", "--dump-dom", url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
    console = [m.group(1) for line in proc.stderr.splitlines() if (m := CONSOLE.search(line))]
    err = "" if proc.returncode == 0 else f"chromium exited {proc.returncode}: {proc.stderr[-300:]}"
    return proc.stdout, console, err


def _image_ok(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix.lower() == ".png":
        return "" if data.startswith(b"\x89PNG\r\n\x1a\n") else "is not a PNG"
    if path.suffix.lower() == ".svg":
        try:
            ET.fromstring(data)
        except ET.ParseError as exc:
            return f"is not well-formed SVG ({exc})"
    return ""


def check_site(site: Path, chromium: str | None = None, jobs: int = 2) -> SiteResult:
    site = site.resolve()
    chromium = chromium or find_chromium()
    pages = sorted(p.name for p in site.glob("*.html"))
    t0 = time.perf_counter()
    results: dict[str, PageResult] = {}
    urls = {p: (site / p).as_uri() for p in pages}
    probe = _search_probe(site)
    if probe:
        urls["search.html?q=" + probe[0]] = (site / "search.html").as_uri() + "?q=" + probe[0]
    with tempfile.TemporaryDirectory(prefix="ionto-chromium-") as tmp:
        def one(key: str) -> PageResult:
            t = time.perf_counter()
            r = PageResult(key)
            try:
                r.dom, r.console, err = _load(chromium, urls[key], os.path.join(tmp, re.sub(r"\W", "_", key)))
            except (OSError, subprocess.SubprocessError) as exc:
                err = f"chromium failed: {exc}"
            if err:
                r.problems.append(err)
            r.seconds = time.perf_counter() - t
            return r
        with cf.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for r in pool.map(one, list(urls)):
                results[r.page] = r
    doms: dict[str, _Dom] = {}
    for key, r in results.items():
        d = _Dom()
        d.feed(r.dom)
        doms[key] = d
        if not r.dom.strip():
            r.problems.append("empty DOM (the page did not load)")
    problems: list[str] = []
    for key, r in results.items():
        d = doms[key]
        for msg in r.console:
            r.problems.append(f"console: {msg}")
        for href in d.links:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc:
                if parts.scheme not in ("http", "https", "mailto"):
                    r.problems.append(f"link {href!r}: unexpected scheme")
                continue  # external: not followed (the report works offline)
            target = parts.path and unquote(parts.path)
            page = target or key.split("?", 1)[0]
            path = site / page
            if not path.is_file():
                r.problems.append(f"broken link {href!r}: {page} does not exist")
                continue
            frag = unquote(parts.fragment)
            if frag and page.endswith(".html"):
                tdom = doms.get(page)
                if tdom is None:
                    r.problems.append(f"broken link {href!r}: {page} was not loaded")
                elif frag not in tdom.ids:
                    r.problems.append(f"broken link {href!r}: no element with id {frag!r} in {page}")
        for tag, src in d.resources:
            parts = urlsplit(src)
            if parts.scheme == "data":
                continue
            if parts.scheme or parts.netloc:
                r.problems.append(f"{tag} {src!r}: not part of the report (it must work offline)")
                continue
            path = site / unquote(parts.path)
            if not path.is_file() or path.stat().st_size == 0:
                r.problems.append(f"missing {tag} {src!r}")
            elif tag == "img" and (bad := _image_ok(path)):
                r.problems.append(f"image {src!r} {bad}")
        problems += [f"{key}: {x}" for x in r.problems]
    if probe:
        key = "search.html?q=" + probe[0]
        if f'href="{probe[1]}"' not in results[key].dom:
            problems.append(f"{key}: the offline search did not list {probe[0]} ({probe[1]})")
    files = [p for p in site.rglob("*") if p.is_file()]
    return SiteResult(list(results.values()), problems, time.perf_counter() - t0, len(pages),
                      sum(p.stat().st_size for p in files), len(files))


def _search_probe(site: Path) -> tuple[str, str] | None:
    """An id from the search index with its link, to try the search with."""
    path = site / "search_index.js"
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    try:
        entries = json.loads(text[text.index("=") + 1:].strip().rstrip(";"))
    except ValueError:
        return None
    for e in entries:
        if str(e.get("i", "")).startswith("SRS-"):
            return e["i"], e["u"]
    return (entries[0]["i"], entries[0]["u"]) if entries else None


def read_verdict(site: Path) -> str:
    """The verdict word the report's index page shows."""
    m = re.search(r'<span class="verdict [^"]*">([^<]+)</span>', (site / "index.html").read_text(encoding="utf-8"))
    return m.group(1).strip() if m else "none found"
