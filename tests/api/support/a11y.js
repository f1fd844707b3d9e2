// A WCAG 2.1 AA check of the page as rendered, run by the browser tests through WebDriver.
// Returns the problems found (empty when the page passes):
// - 3.1.1 the page has a language; 2.4.2 a title; 1.3.1 one h1, unique ids;
// - 1.3.1 / 4.1.2 every form control has an accessible name, every link and button a name,
//   every image an alt attribute;
// - 1.4.3 text contrast: 4.5:1, or 3:1 for large text (24px, or 18.66px bold), computed from
//   the rendered colours over the nearest opaque background;
// - 2.4.7 every focusable element shows a focus indicator of at least 2px.
const problems = [];
const short = (el) => el.outerHTML.slice(0, 140);
if (!document.documentElement.lang) problems.push("html has no lang");
if (!document.title.trim()) problems.push("the page has no title");
const h1 = document.querySelectorAll("h1").length;
if (h1 !== 1) problems.push(`${h1} h1 elements`);
const seen = new Set();
for (const el of document.querySelectorAll("[id]")) {
  if (seen.has(el.id)) problems.push(`duplicate id ${el.id}`);
  seen.add(el.id);
}
for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
  const named = (el.labels && el.labels.length > 0) || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
  if (!named) problems.push(`no label: ${short(el)}`);
}
for (const el of document.querySelectorAll("a, button")) {
  if (!el.textContent.trim() && !el.getAttribute("aria-label") && !el.querySelector("img[alt]:not([alt=''])")) {
    problems.push(`no name: ${short(el)}`);
  }
}
for (const img of document.querySelectorAll("img")) {
  if (!img.hasAttribute("alt")) problems.push(`no alt: ${short(img)}`);
}
const rgb = (text) => (text.match(/[\d.]+/g) || []).map(Number);
const channel = (v) => {
  const c = v / 255;
  return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
};
const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
const background = (el) => {
  for (let e = el; e; e = e.parentElement) {
    const c = rgb(getComputedStyle(e).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.99)) return c.slice(0, 3);
  }
  return [255, 255, 255];
};
for (const el of document.body.querySelectorAll("*")) {
  if (el.closest("svg") || el.closest(".visually-hidden")) continue;
  const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!text || !el.getClientRects().length) continue;
  const style = getComputedStyle(el);
  const [fg, bg] = [luminance(rgb(style.color)), luminance(background(el))];
  const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
  const size = parseFloat(style.fontSize);
  const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
  if (ratio < (large ? 3 : 4.5)) problems.push(`contrast ${ratio.toFixed(2)}: ${short(el)}`);
}
const focusable = "a[href], button, input:not([type=hidden]), select, textarea, summary";
for (const el of document.querySelectorAll(focusable)) {
  if (!el.getClientRects().length) continue;
  el.focus();
  const style = getComputedStyle(el);
  if (style.outlineStyle === "none" || parseFloat(style.outlineWidth) < 2) problems.push(`no focus ring: ${short(el)}`);
  el.blur();
}
return problems;
