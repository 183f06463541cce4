"""Browser: every patient page on a phone (issue 13 §4).

The same header and demo banner on each page under the check-in link; every control at least
44 x 44 px (a radio or checkbox counts with its label); axe finds nothing, at any impact, with
every rule on (best practices included, so landmark problems count too).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.browser.axe import format_violation, inject_axe

from trellis.web.demo import DEMO_SLUG

# For each control, the box a finger can hit: a radio or checkbox counts with its label.
TARGETS_JS = """() => {
  const out = [];
  const visible = el => { const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  for (const el of document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    if (!visible(el) || el.closest('.skip-link') || el.classList.contains('skip-link')) continue;
    let box = el.getBoundingClientRect();
    if (el.type === 'radio' || el.type === 'checkbox') {
      const label = el.closest('label')
        || (el.id && document.querySelector(`label[for="${el.id}"]`));
      if (label) {
        const l = label.getBoundingClientRect();
        const top = Math.min(box.top, l.top), bottom = Math.max(box.bottom, l.bottom);
        const left = Math.min(box.left, l.left), right = Math.max(box.right, l.right);
        box = {width: right - left, height: bottom - top};
      }
    }
    if (box.width < 44 || box.height < 44) {
      const name = (el.innerText || el.value || el.name || '').trim().slice(0, 40);
      const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
      out.push(`${el.tagName.toLowerCase()}[${el.type || ''}] "${name}" ${size}`);
    }
  }
  return out;
}"""

ALL_RULES_JS = """async () => {
  const results = await axe.run(document);
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    targets: v.nodes.map(n => n.target.join(' ')),
  }));
}"""


def _patient_link() -> tuple[Any, str]:
    from trellis.checkin.services import issue_link
    from trellis.patients.models import Patient

    patient = (
        Patient.objects.filter(program__slug=DEMO_SLUG, preferred_language="es")
        .order_by("family_name", "pk")
        .first()
    )
    assert patient is not None
    _, token = issue_link(
        patient,
        purpose="assessments",
        payload={"due": [{"instrument": "phq9", "timepoint": "week_3"}]},
    )
    return patient, token


def test_every_patient_page_on_a_phone(phone_page: Any, demo_site: str) -> None:
    patient, token = _patient_link()
    start = f"{demo_site}/c/{token}/"
    phone_page.goto(start)
    # The patient's own pages: every link under the check-in link, from the home page.
    hrefs = phone_page.eval_on_selector_all("main a[href]", "els => els.map(e => e.href)")
    pages = [start] + sorted(
        {h.split("#")[0] for h in hrefs if token in urlsplit(h).path} - {start}
    )
    assert len(pages) >= 3, pages
    problems: list[str] = []
    for url in pages:
        response = phone_page.goto(url)
        assert response is not None
        assert response.status == 200, url
        assert phone_page.locator("html").get_attribute("lang") == "es", url
        header = phone_page.locator("header.site-header")
        assert header.count() == 1, url
        assert header.locator(".brand").inner_text() == patient.program.name, url
        assert header.locator(".demo-banner").is_visible(), url
        problems += [f"{url}: {t}" for t in phone_page.evaluate(TARGETS_JS)]
        inject_axe(phone_page)
        found = phone_page.evaluate(ALL_RULES_JS)
        problems += [f"{url}:\n{format_violation(v)}" for v in found]
    assert problems == []
