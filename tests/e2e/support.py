"""Helpers shared by the browser tests: signing in, reading the database, accessibility and keyboard checks."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from lms.demo import DEMO_PASSWORD

ADMIN = "admin@orocert.test"
INSTRUCTOR = "instructor@orocert.test"
BOARD = "board@orocert.test"
HYGIENIST = "hygienist@orocert.test"
MASSAGE = "massage@orocert.test"
SLP = "slp@orocert.test"

SERIAL_RE = re.compile(r"OFM-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}")
BLOCKING_IMPACTS = ("serious", "critical")
# The WCAG 2.x A/AA rules plus axe's best practices; only serious and critical findings fail a test.
# Findings below the failing threshold (moderate, minor), printed at the end of the run by conftest.
AXE_NOTES: list[str] = []
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form, as a person would, and wait until the signed-in header shows."""
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    # On a phone the button sits behind the Menu button: signed in means it is in the page, shown or folded.
    expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_have_count(1)


def open_menu(page: Page) -> None:
    """Unfold the compact navigation when the page shows its Menu button (narrow screens); otherwise do nothing."""
    page.wait_for_load_state("load")  # the stylesheet decides whether the Menu button shows; wait for it
    toggle = page.locator("label.nav-toggle-label")
    if toggle.is_visible() and not page.locator("#nav-toggle").is_checked():
        toggle.click()
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def nav_go(page: Page, name: str) -> None:
    """Follow a link of the main navigation as a person would: open the menu, and the group holding the link."""
    open_menu(page)
    nav = page.get_by_role("navigation", name="Main")
    link = nav.get_by_role("link", name=name, exact=True)
    if not link.is_visible():
        nav.locator("li.menu").filter(has=page.get_by_role("link", name=name, exact=True, include_hidden=True)) \
            .locator("summary").click()
    link.click()


def sign_out(page: Page) -> None:
    open_menu(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()


def flash(page: Page):
    """The flash messages region at the top of the main content."""
    return page.locator(".flashes")


def today_iso() -> str:
    """Today as the server counts it (UTC), for date fields the server checks against its own calendar."""
    from lms.core.timeutil import today

    return today().isoformat()


def real_pdf(text: str) -> bytes:
    """A small, genuine one-page PDF rendered by WeasyPrint (the same engine that renders certificates)."""
    from weasyprint import HTML

    return HTML(string=f"<h1>Certificate of completion</h1><p>{text}</p>").write_pdf()


_AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').split('\\n').join(' ')),
  }));
}"""


def axe_violations(page: Page, axe_source: str) -> list[dict]:
    """Run axe-core on the current page and return its violations.

    The app's Content-Security-Policy (script-src 'self') refuses inline scripts, so ``add_script_tag(path=...)``
    (which inserts the file's text as an inline <script>) would be blocked. ``page.evaluate`` goes through the
    DevTools protocol, which the page's CSP does not govern, so the policy stays fully in force for the page under
    test — inline styles the CSP strips stay stripped while axe measures contrast and layout.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source)
    return page.evaluate(_AXE_RUN, AXE_TAGS)


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']}")
        lines.extend(f"      {n}" for n in v["nodes"])
    return "\n".join(lines)


_FOCUS_STATE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    key: el.id || el.getAttribute('name') || (el.tagName + ':' + (el.textContent || '').trim().slice(0, 40)),
    tag: el.tagName.toLowerCase(), type: el.getAttribute('type') || '', text: (el.textContent || '').trim(),
    outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
    inViewport: box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0
                && box.top < window.innerHeight && box.left < window.innerWidth,
    inMain: !!el.closest('main'),
  };
}"""


def focus_state(page: Page) -> dict | None:
    return page.evaluate(_FOCUS_STATE)


def tab_through_main(page: Page, stop_at: str, limit: int = 60) -> list[dict]:
    """Activate the skip link, then press Tab until the element whose key is ``stop_at`` has focus.

    Returns the distinct focus stops in order (a date input keeps focus across its day/month/year segments, so
    consecutive repeats are folded into one stop). Every stop is checked for a visible focus indicator.
    """
    page.keyboard.press("Tab")
    first = focus_state(page)
    assert first and first["text"] == "Skip to content", f"the first Tab should reach the skip link, got {first}"
    assert first["inViewport"], "the skip link must become visible when focused"
    assert first["outlineStyle"] != "none" and first["outlineWidth"] > 0
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    assert page.evaluate("() => document.activeElement.id") == "main", "the skip link must move focus to the content"
    stops: list[dict] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        state = focus_state(page)
        assert state is not None, "focus fell back to the page body while tabbing through the form"
        assert state["outlineStyle"] != "none" and state["outlineWidth"] > 0, f"no visible focus outline on {state}"
        assert state["inViewport"], f"the focused element is scrolled out of view: {state}"
        if not stops or stops[-1]["key"] != state["key"]:
            stops.append(state)
        if state["key"] == stop_at:
            return stops
    raise AssertionError(f"Tab never reached {stop_at!r}; stops were {[s['key'] for s in stops]}")


_OVERFLOW = """() => {
  const doc = document.documentElement;
  const wide = [];
  if (doc.scrollWidth > doc.clientWidth + 1) {
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.right > doc.clientWidth + 1 && !el.closest('.table-wrap')) {
        const name = el.tagName.toLowerCase() + (el.className ? '.' + el.className : '');
        wide.push(name + ' right=' + Math.round(r.right));
      }
      if (wide.length > 8) break;
    }
  }
  return {scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, wide};
}"""


def horizontal_overflow(page: Page) -> dict:
    return page.evaluate(_OVERFLOW)
