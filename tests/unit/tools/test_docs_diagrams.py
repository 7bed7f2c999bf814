"""tools/docs_diagrams.py: which pages have diagrams, and what counts as drawn (the browser run
itself is the docs stage of scripts/test)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
spec = importlib.util.spec_from_file_location("docs_diagrams", ROOT / "tools" / "docs_diagrams.py")
docs_diagrams = importlib.util.module_from_spec(spec)
spec.loader.exec_module(docs_diagrams)


def element(name: str, attributes: dict | None = None, children=(), shadow=()) -> dict:
    flat = [x for pair in (attributes or {}).items() for x in pair]
    return {"nodeName": name, "attributes": flat, "children": list(children), "shadowRoots": list(shadow)}


def drawing(role: str = "flowchart-v2", groups: int = 1) -> dict:
    svg = element("svg", {"aria-roledescription": role}, [element("g")] * groups)
    return element("DIV", {"class": "mermaid"}, shadow=[{"nodeName": "#document-fragment", "children": [svg]}])


def test_pages_with_diagrams_are_counted_from_the_built_html(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text('<pre class="mermaid"><code>x</code></pre>' * 2)
    (tmp_path / "index.html").write_text('<pre class="highlight"><code>no diagram</code></pre>')
    assert docs_diagrams.diagram_pages(tmp_path) == {"a/index.html": 2}


def test_a_diagram_in_a_shadow_root_is_drawn():
    page = element("HTML", children=[element("BODY", children=[drawing(), drawing()])])
    assert docs_diagrams.diagram_state(page) == (2, 0, [])


def test_text_error_drawings_and_empty_svgs_are_not_drawn():
    page = element(
        "BODY",
        children=[
            element("PRE", {"class": "mermaid"}, [element("CODE")]),
            drawing(role="error"),
            drawing(groups=0),
            element("DIV", {"class": "mermaid"}),
        ],
    )
    drawn, text, problems = docs_diagrams.diagram_state(page)
    assert (drawn, text) == (0, 1)
    assert len(problems) == 3
    assert any("error picture" in p for p in problems)


def test_the_browser_has_no_route_out_but_the_loopback():
    assert "--proxy-server=127.0.0.1:9" in docs_diagrams.NO_ROUTE
    assert any(a.startswith("--host-resolver-rules=MAP * ~NOTFOUND") for a in docs_diagrams.NO_ROUTE)


def test_mermaid_is_served_by_the_site_and_never_committed():
    config = (ROOT / "mkdocs.yml").read_text()
    assert "javascripts/mermaid.min.js" in config
    assert not list((ROOT / "docs").rglob("mermaid*.js")), "mermaid is fetched by scripts/lib/docs.sh, not committed"
    assert "MERMAID_VERSION=" in (ROOT / "scripts" / "lib" / "docs.sh").read_text()
