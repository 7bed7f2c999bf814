"""Check that the built handbook's mermaid diagrams become drawings in a browser without internet.

Serves the built site on 127.0.0.1 (http.server) and opens every page that has a diagram
(`<pre class="mermaid">` in its HTML) in headless Chromium, whose only route out is a proxy
that does not exist (127.0.0.1:9) and whose resolver knows no name: what a reader on a
company network without internet access gets. mkdocs-material replaces each `pre.mermaid`
with a `div.mermaid` holding the SVG in a closed shadow root, which --dump-dom cannot see; so
the page is driven over the DevTools protocol (--remote-debugging-pipe: NUL-separated JSON on
file descriptors 3 and 4, no WebSocket library needed) and DOM.getDocument(pierce) reads the
shadow roots. A page passes when every diagram became an SVG that is not mermaid's error
drawing and no request tried to leave the machine (except to the project's own GitLab,
mkdocs.yml's repo_url, which the theme asks for the repository's facts and which is inside the
company network); otherwise the script names the page, what is missing, and those requests
(e.g. the theme falling back to unpkg.com when mermaid is not served).

Usage: python3 tools/docs_diagrams.py SITE_DIR [--config mkdocs.yml] [--chromium PATH] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import functools
import http.server
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

DIAGRAM = re.compile(r'<pre class="mermaid"')
# Nothing listens on the discard port: every request that would leave 127.0.0.1 fails.
NO_ROUTE = ["--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


def diagram_pages(site: Path) -> dict[str, int]:
    """Page path under the site (e.g. ml/ship-a-dag/index.html) -> number of diagrams on it."""
    pages = {}
    for html in sorted(site.rglob("*.html")):
        count = len(DIAGRAM.findall(html.read_text(errors="replace")))
        if count:
            pages[html.relative_to(site).as_posix()] = count
    return pages


def _attrs(node: dict) -> dict[str, str]:
    flat = node.get("attributes", [])
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _walk(node: dict):
    yield node
    for child in [*node.get("shadowRoots", []), *node.get("children", [])]:
        yield from _walk(child)


def diagram_state(document: dict) -> tuple[int, int, list[str]]:
    """From DOM.getDocument(depth=-1, pierce=true): (diagrams drawn, diagrams left as text, problems)."""
    drawn, text, problems = 0, 0, []
    for node in _walk(document):
        classes = _attrs(node).get("class", "").split()
        if node.get("nodeName") == "PRE" and "mermaid" in classes:
            text += 1
        if node.get("nodeName") != "DIV" or "mermaid" not in classes:
            continue
        svgs = [
            n for root in node.get("shadowRoots", []) for n in _walk(root) if n.get("nodeName", "").lower() == "svg"
        ]
        if not svgs:
            problems.append("a div.mermaid without an SVG")
        elif _attrs(svgs[0]).get("aria-roledescription") == "error":
            problems.append("mermaid drew its error picture (a syntax error in the diagram)")
        elif not any(n.get("nodeName", "").lower() == "g" for n in _walk(svgs[0])):
            problems.append("an empty SVG")
        else:
            drawn += 1
    return drawn, text, problems


class Site(http.server.ThreadingHTTPServer):
    """The built site on 127.0.0.1 (a free port), recording the paths asked for and the answers."""

    def __init__(self, root: Path):
        self.requested: list[tuple[str, int]] = []
        site = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_request(self, code="-", size="-"):
                site.requested.append((self.path, int(code)))

            def log_message(self, *args):  # quiet: the failures name what was missing
                pass

        super().__init__(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4)."""

    def __init__(self, binary: str, profile: str):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # Duplicated above 10 so that placing them on 3 and 4 in the child clobbers nothing.
        child_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
        child_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
        os.close(to_browser_r)
        os.close(from_browser_w)

        def place_fds():
            os.dup2(child_r, 3)
            os.dup2(child_w, 4)

        args = [binary, "--headless", "--remote-debugging-pipe", f"--user-data-dir={profile}", *NO_ROUTE]
        args += ["--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking"]
        if os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium's sandbox refuses to run as root
        self.process = subprocess.Popen(
            [*args, "about:blank"],
            pass_fds=(3, 4),
            preexec_fn=place_fds,  # noqa: PLW1509 - only os.dup2, before exec
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        os.close(child_r)
        os.close(child_w)
        self._next_id = 0
        self._messages: queue.Queue = queue.Queue()
        self.events: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buffer = b""
        while chunk := os.read(self._from_browser, 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self._messages.put(json.loads(message))
        self._messages.put(None)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = self._messages.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"Chromium did not answer {method} within {timeout} s") from None
            if reply is None:
                raise RuntimeError(f"Chromium exited: {self.process.stderr.read().decode(errors='replace')[-2000:]}")
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for_event(self, method: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e.get("method") == method for e in self.events):
                return True
            try:
                message = self._messages.get(timeout=0.2)
            except queue.Empty:
                continue
            if message is not None:
                self.events.append(message)
        return False

    def close(self):
        with contextlib.suppress(TimeoutError, RuntimeError, OSError):
            self.send("Browser.close", timeout=5)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def repo_origin(config: Path) -> str | None:
    """The origin of mkdocs.yml's repo_url (the project's GitLab), e.g. https://gitlab.example/."""
    import yaml  # the docs virtualenv's; only needed with --config

    repo_url = (yaml.safe_load(config.read_text()) or {}).get("repo_url")
    return "{0.scheme}://{0.netloc}/".format(urlsplit(repo_url)) if repo_url else None


def check_page(
    browser: Chromium, session: str, url: str, expected: int, timeout: float, allowed: tuple[str, ...] = ()
) -> list[str]:
    """Open url; wait until its diagrams are drawn or timeout. Returns what went wrong."""
    browser.events.clear()
    browser.send("Page.navigate", {"url": url}, session)
    if not browser.wait_for_event("Page.loadEventFired", timeout):
        return [f"the page did not load within {timeout} s"]
    deadline = time.monotonic() + timeout
    while True:
        document = browser.send("DOM.getDocument", {"depth": -1, "pierce": True}, session)["root"]
        drawn, text, problems = diagram_state(document)
        if (drawn == expected and not text and not problems) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    errors = [] if drawn == expected and not text else [f"{drawn} of {expected} diagrams drawn, the rest shown as text"]
    errors += problems
    # A page that reaches out would wait on, or lose, what a network without internet blocks.
    origin = "{0.scheme}://{0.netloc}/".format(urlsplit(url))
    outside = sorted(
        {
            e["params"]["request"]["url"]
            for e in browser.events
            if e.get("method") == "Network.requestWillBeSent"
            and not e["params"]["request"]["url"].startswith((origin, "data:", *allowed))
        }
    )
    if outside:
        errors.append("requests that tried to leave the machine: " + ", ".join(outside))
    for event in browser.events:
        if event.get("method") == "Runtime.exceptionThrown":
            details = event["params"]["exceptionDetails"]
            message = details.get("exception", {}).get("description") or details.get("text", "")
            # Without the stack; mermaid's parse errors point at the spot on the lines after the first.
            lines = [line.strip() for line in message.splitlines() if not line.strip().startswith("at ")]
            error = "script error: " + " | ".join(lines)
            if error not in errors:
                errors.append(error)
    return errors


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("site", type=Path, help="the built site (mkdocs build's --site-dir)")
    parser.add_argument("--config", type=Path, help="mkdocs.yml: requests to its repo_url's host are allowed")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--timeout", type=float, default=30, help="seconds per page (default 30)")
    args = parser.parse_args(argv)

    pages = diagram_pages(args.site)
    if not pages:
        print(f"{args.site}: no page with a mermaid diagram; was the handbook built?", file=sys.stderr)
        return 1
    allowed = tuple(filter(None, [repo_origin(args.config) if args.config else None]))
    site = Site(args.site)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="docs-diagrams-") as profile:
        browser = Chromium(args.chromium, profile)
        try:
            target = next(t for t in browser.send("Target.getTargets")["targetInfos"] if t["type"] == "page")
            attached = browser.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
            session = attached["sessionId"]
            for domain in ("Page", "Network", "Runtime"):
                browser.send(f"{domain}.enable", session=session)
            for page, expected in pages.items():
                start = time.monotonic()
                errors = check_page(browser, session, site.url + page, expected, args.timeout, allowed)
                took = time.monotonic() - start
                if errors:
                    failed += 1
                    print(f"FAILED  {page}: " + "; ".join(errors))
                else:
                    print(f"drawn   {page}: {expected} diagram(s) as SVG in {took:.1f} s")
        finally:
            browser.close()
            site.shutdown()
    served = ("/javascripts/mermaid.min.js", 200) in site.requested
    print(
        f"{len(pages) - failed} of {len(pages)} pages with diagrams drawn offline; site served mermaid.min.js: {served}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
