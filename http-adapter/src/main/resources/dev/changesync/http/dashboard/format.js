// Formatting: relative times against the server's clock, durations, and small DOM builders.

/** "12s ago" / "in 3m" for an RFC 3339 instant, measured from the server's now. */
export function relative(iso, nowIso) {
  if (!iso) return "—";
  const ms = Date.parse(iso) - Date.parse(nowIso);
  const s = Math.round(Math.abs(ms) / 1000);
  const text = s < 60 ? s + "s" : s < 3600 ? Math.floor(s / 60) + "m"
    : s < 86400 ? Math.floor(s / 3600) + "h" : Math.floor(s / 86400) + "d";
  return ms <= 0 ? text + " ago" : "in " + text;
}

/** An ISO-8601 duration as Jackson writes it (PT0.25S, PT-1.5S, PT15M) in milliseconds. */
export function durationMs(iso) {
  if (!iso) return null;
  const m = /^(-)?PT(?:(-?\d+)H)?(?:(-?\d+)M)?(?:(-?[\d.]+)S)?$/.exec(iso);
  if (!m) return null;
  const ms = ((+m[2] || 0) * 3600 + (+m[3] || 0) * 60 + (+m[4] || 0)) * 1000;
  return m[1] ? -ms : ms;
}

/** A clock offset in ms as "+12 ms" / "−1.5 s". */
export function offset(iso) {
  const ms = durationMs(iso);
  if (ms === null) return "—";
  const sign = ms < 0 ? "−" : "+";
  const abs = Math.abs(ms);
  return sign + (abs < 1000 ? Math.round(abs) + " ms" : (abs / 1000).toFixed(1) + " s");
}

/** An element with attributes and children (strings become text: never parsed as HTML). */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export const badge = (text, kind) => el("span", { class: "badge " + (kind || "") }, text);

/** Short form of a commit SHA. */
export const sha = (s) => (s ? s.slice(0, 7) : "—");
