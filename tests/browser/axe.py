"""Accessibility check with the vendored axe-core (tests/browser/vendor/axe.min.js).

``assert_accessible(page, "chart")`` runs the WCAG 2.0/2.1 A and AA rules on the current page and
fails listing every serious or critical violation.

Why not ``page.add_script_tag(path=...)``: Playwright inlines the file's text into a ``<script>``
element, which the app's CSP (``script-src 'self'``) blocks, and the only way round it,
``bypass_csp=True`` on the context, would switch CSP off for the whole test and hide real CSP
regressions from every browser test. Instead the script is loaded by URL from the page's own
origin, a path this helper answers itself through ``page.route``: the app's CSP admits it as it
would any of the app's own scripts, and the app is never asked for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_PATH = "/__browser-tests__/axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}

_RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    targets: v.nodes.map(n => n.target.join(' ')),
  }));
}"""


def _serve_axe(route: Any) -> None:
    route.fulfill(path=str(AXE_JS), content_type="text/javascript; charset=utf-8")


def inject_axe(page: Any) -> None:
    """Load axe-core into the current document (once per document)."""
    if page.evaluate("typeof window.axe !== 'undefined'"):
        return
    parts = urlsplit(page.url)
    url = f"{parts.scheme}://{parts.netloc}{AXE_PATH}"
    page.route(url, _serve_axe)
    try:
        page.add_script_tag(url=url)
    finally:
        page.unroute(url, _serve_axe)


def violations(page: Any) -> list[dict[str, Any]]:
    """All axe violations (any impact) for the WCAG 2.x A/AA tags on the current page."""
    inject_axe(page)
    return page.evaluate(_RUN_AXE, WCAG_TAGS)


def format_violation(v: dict[str, Any]) -> str:
    targets = ", ".join(v["targets"][:3])
    more = f" (+{len(v['targets']) - 3} more)" if len(v["targets"]) > 3 else ""
    return f"  - {v['id']} [{v['impact']}] {v['help']}: {targets}{more}"


def assert_accessible(page: Any, context: str = "") -> None:
    """Fail if axe finds a serious or critical WCAG 2.x A/AA violation on the current page."""
    found = [v for v in violations(page) if v["impact"] in BLOCKING_IMPACTS]
    if found:
        where = f"{context} ({page.url})" if context else page.url
        lines = "\n".join(format_violation(v) for v in found)
        raise AssertionError(f"accessibility violations on {where}:\n{lines}")
