package browsertest

import "testing"

// contrastJS lists visible text whose colour against its effective background is below WCAG AA
// (4.5:1, or 3:1 for large text), computed from the rendered page's computed colours.
const contrastJS = `(() => {
  const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const bg = (el) => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor); if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c; } return [255, 255, 255]; };
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const r = el.getBoundingClientRect();
    const st = getComputedStyle(el);
    if (!own || r.width === 0 || r.height === 0 || st.visibility === 'hidden' || st.opacity === '0' || el.closest('[hidden]')) continue;
    const a = lum(rgb(st.color)), b = lum(bg(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight, 10) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) bad.push(el.tagName + '.' + el.className + ' "' + el.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2));
  }
  return bad.slice(0, 20);
})()`

// unlabelledJS lists buttons, inputs and selects with no accessible name.
const unlabelledJS = `[...document.querySelectorAll('button, input, select')].filter((e) => {
  if (e.closest('[hidden]')) return false;
  const label = e.getAttribute('aria-label') || (e.labels && e.labels.length) || e.textContent.trim();
  return !label;
}).map((e) => e.outerHTML.slice(0, 80))`

func checkAccessibility(t *testing.T, p *page) {
	t.Helper()
	if bad, _ := p.eval(contrastJS).([]any); len(bad) > 0 {
		t.Errorf("text below WCAG AA contrast: %v", bad)
	}
	if bad, _ := p.eval(unlabelledJS).([]any); len(bad) > 0 {
		t.Errorf("controls without a label: %v", bad)
	}
	if !p.truthy(`[...document.querySelectorAll('button')].every(b => b.tabIndex >= 0)`) {
		t.Error("a button is out of the keyboard's reach (tabindex < 0)")
	}
}
