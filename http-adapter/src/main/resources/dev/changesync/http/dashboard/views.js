// Rendering each section from the server's JSON. Rows are kept per key and only changed cells are
// rewritten, so a poll never resets what the operator is doing (focus, selection, a button
// about to be clicked) and the page does not jump.
import { badge, el, offset, relative, sha } from "./format.js";

/** Puts `items` into `table`'s body in order, one row per key, rewriting only changed cells. */
export function syncRows(table, items, keyOf, columns, ctx, rowClass) {
  const tbody = table.tBodies[0];
  const existing = new Map();
  for (const tr of tbody.rows) existing.set(tr.dataset.key, tr);
  const rows = items.map((item) => {
    const key = String(keyOf(item));
    let tr = existing.get(key);
    if (!tr) {
      tr = el("tr", { "data-key": key });
      for (const col of columns) tr.append(el("td", { "data-label": col.label, class: col.class }));
    }
    tr.item = item;
    tr.className = rowClass ? rowClass(item) : "";
    columns.forEach((col, i) => {
      const value = col.render(item, ctx);
      const node = value instanceof Node ? value : document.createTextNode(value ?? "—");
      const sig = node.nodeType === Node.ELEMENT_NODE ? node.outerHTML : node.textContent;
      const td = tr.cells[i];
      if (td.sig !== sig) {
        td.replaceChildren(node);
        td.sig = sig;
      }
    });
    return tr;
  });
  rows.forEach((tr, i) => {
    if (tbody.rows[i] !== tr) tbody.insertBefore(tr, tbody.rows[i] || null);
  });
  while (tbody.rows.length > rows.length) tbody.lastElementChild.remove();
}

/** Percentage of open pull requests that are current (100 once scanned with none open). */
export function percent(r) {
  if (r.open_pr_total === 0) return r.last_open_pr_scan_at ? 100 : 0;
  return Math.floor((100 * r.open_pr_current) / r.open_pr_total);
}

function lanes(r) {
  const running = [["fetch", r.fetch_in_progress], ["refresh", r.refresh_in_progress],
    ["backfill", r.backfill_in_progress]].filter(([, on]) => on);
  return running.length === 0 ? el("span", { class: "muted" }, "idle")
    : el("span", {}, running.map(([lane]) => badge(lane, "lane")));
}

const REPO_COLUMNS = [
  { label: "Repository", render: (r) => el("span", {},
    el("button", { type: "button", class: "link", "data-action": "open" }, r.full_name),
    el("span", { class: "muted phase" }, String(r.phase || "").toLowerCase().replaceAll("_", " "))) },
  { label: "Backfill", render: (r) => r.backfill_mode + " · priority " + r.backfill_priority },
  { label: "Open PRs current", render: (r) => {
    const p = percent(r);
    return el("div", { class: "progress-cell" },
      el("progress", { max: "100", value: String(p), "data-percent": String(p),
        "aria-label": r.full_name + " open pull requests current" }),
      el("span", { class: "progress-text" }, r.open_pr_current + " / " + r.open_pr_total + " (" + p + " %)"),
      el("span", { class: r.open_pr_stale || r.open_pr_missing ? "warn-text" : "muted" },
        r.open_pr_stale + " stale · " + r.open_pr_missing + " missing"));
  } },
  { label: "Last fetch", render: (r, now) => relative(r.last_successful_fetch_at, now) },
  { label: "Last webhook", render: (r, now) => relative(r.last_webhook_at, now) },
  { label: "Lanes running", render: lanes },
  { label: "Last error", render: (r) => r.last_error
    ? el("span", { class: "error-text" }, r.last_error) : el("span", { class: "muted" }, "none") },
];

const SORTS = {
  name: (a, b) => a.full_name.toLowerCase().localeCompare(b.full_name.toLowerCase()),
  "name-desc": (a, b) => b.full_name.toLowerCase().localeCompare(a.full_name.toLowerCase()),
  progress: (a, b) => percent(a) - percent(b) || SORTS.name(a, b),
  fetch: (a, b) => (a.last_successful_fetch_at || "").localeCompare(b.last_successful_fetch_at || "")
    || SORTS.name(a, b),
};

export function renderRepositories(list, filter, sort) {
  const needle = filter.trim().toLowerCase();
  const shown = list.repositories
    .filter((r) => r.full_name.toLowerCase().includes(needle))
    .sort(SORTS[sort] || SORTS.name);
  syncRows(document.getElementById("repo-table"), shown, (r) => r.full_name, REPO_COLUMNS, list.now,
    (r) => (r.last_error ? "has-error" : ""));
  document.getElementById("repo-count").textContent = needle
    ? shown.length + " of " + list.repositories.length : String(list.repositories.length);
  document.getElementById("repo-empty").hidden = list.repositories.length > 0;
}

function fieldValue(value, now) {
  if (value === null || value === undefined) return el("span", { class: "muted" }, "—");
  if (typeof value === "string" && /^\d{4}-\d\d-\d\dT/.test(value)) {
    return el("span", { title: value }, relative(value, now), " ", el("span", { class: "muted iso" }, value));
  }
  return String(value);
}

const PULL_COLUMNS = [
  { label: "#", render: (p) => String(p.number) },
  { label: "Title", render: (p) => (p.draft ? "[draft] " : "") + (p.title || "") },
  { label: "Freshness", render: (p) => badge(p.freshness.replaceAll("_", " "),
    p.freshness === "current" ? "ok" : p.freshness === "failed" ? "bad" : "warn") },
  { label: "Updated", render: (p, now) => relative(p.updated_at, now) },
  { label: "Snapshot", render: (p, now) => p.snapshot_indexed_at
    ? sha(p.snapshot_head_sha) + " · " + relative(p.snapshot_indexed_at, now) : "none" },
  { label: "Error", render: (p) => p.last_error || "" },
];

export function renderDetail(detail) {
  const section = document.getElementById("detail");
  if (!detail) {
    section.hidden = true;
    return;
  }
  section.hidden = false;
  const { status, pulls } = detail;
  document.getElementById("detail-name").textContent = status.full_name;
  const fields = Object.entries(status).map(([key, value]) => el("div", { class: "field" },
    el("dt", {}, key), el("dd", {}, fieldValue(value, pulls.now))));
  document.getElementById("detail-fields").replaceChildren(...fields);
  syncRows(document.getElementById("pulls-table"), pulls.pulls, (p) => p.number, PULL_COLUMNS,
    pulls.now, (p) => "freshness-" + p.freshness);
  document.getElementById("pulls-count").textContent =
    pulls.pulls.length + (pulls.open_pr_total > pulls.pulls.length ? " of " + pulls.open_pr_total : "");
}

const resourceCell = (resource, repository) => el("span", {},
  repository ? el("span", {}, repository, " ") : null, el("span", { class: "muted" }, resource));

const LEASE_COLUMNS = [
  { label: "Resource", render: (l) => resourceCell(l.resource, l.repository) },
  { label: "Lane", class: "nowrap", render: (l) => l.lane },
  { label: "State", render: (l) => badge(l.state, l.state === "HELD" ? "ok" : "warn") },
  { label: "Owner", render: (l) => el("span", { class: "owner" }, l.owner_id) },
  { label: "Token", render: (l) => el("span", { class: "token" }, String(l.token)) },
  { label: "Heartbeat", render: (l, now) => relative(l.heartbeat_at, now) },
  { label: "Expires", render: (l, now) => relative(l.expires_at, now) },
  { label: "Changed hands", render: (l) => String(l.transitions) },
  { label: "Clock offset", render: (l) => offset(l.holder_clock_skew) },
  { label: "Action", class: "admin-only", render: () =>
    el("button", { type: "button", class: "danger", "data-action": "release" }, "Release") },
];

export function renderLeases(list) {
  syncRows(document.getElementById("lease-table"), list.leases, (l) => l.resource + "/" + l.lane,
    LEASE_COLUMNS, list.now, (l) => "lease-" + l.state.toLowerCase());
  document.getElementById("lease-count").textContent = String(list.leases.length);
  document.getElementById("lease-empty").hidden = list.leases.length > 0;
}

export function renderWorkers(list, leases) {
  const held = new Map();
  for (const l of leases.leases) held.set(l.owner_id, (held.get(l.owner_id) || 0) + 1);
  const columns = [
    { label: "Name", render: (w) => w.worker_name },
    { label: "Incarnation", render: (w) => w.incarnation },
    { label: "Host", render: (w) => (w.host || "—") + (w.pid ? " · pid " + w.pid : "") },
    { label: "Version", render: (w) => w.version || "—" },
    { label: "Started", render: (w, now) => relative(w.started_at, now) },
    { label: "Last seen", render: (w, now) => relative(w.last_seen_at, now) },
    { label: "Alive", render: (w) => w.alive ? badge("alive", "ok")
      : badge(w.stopped_at ? "stopped" : "gone", "off") },
    { label: "Leases held", render: (w) => String(held.get(w.owner_id) || 0) },
  ];
  syncRows(document.getElementById("worker-table"), list.workers, (w) => w.owner_id, columns,
    list.now);
  document.getElementById("worker-count").textContent =
    list.workers.filter((w) => w.alive).length + " alive of " + list.workers.length;
}

const EVENT_KINDS = {
  claimed: ["claimed", ""], released: ["released", ""], reclaimed: ["reclaimed", "warn"],
  manually_released: ["manual release", "bad"], lost: ["lost", "bad"], recovered: ["recovered", "warn"],
};

export function renderHistory(events, filter, names, now) {
  const needle = filter.trim().toLowerCase();
  const shown = events.filter((e) => !needle || e.resource.toLowerCase().includes(needle)
    || (names.get(e.resource) || "").toLowerCase().includes(needle));
  const columns = [
    { label: "When", class: "nowrap", render: (e) => el("span", { title: e.at }, relative(e.at, now)) },
    { label: "Event", render: (e) => badge(...(EVENT_KINDS[e.kind] || [e.kind, ""])) },
    { label: "Resource", render: (e) => resourceCell(e.resource, names.get(e.resource)) },
    { label: "Lane", class: "nowrap", render: (e) => e.lane },
    { label: "Owner", render: (e) => e.owner_id || "—" },
    { label: "Token", render: (e) => (e.token === null ? "—" : String(e.token)) },
    { label: "Previous", render: (e) => e.previous_owner_id
      ? e.previous_owner_id + (e.previous_token === null ? "" : " · token " + e.previous_token) : "—" },
    { label: "Detail", render: (e) => e.detail || "" },
  ];
  syncRows(document.getElementById("history-table"), shown, (e) => e.id, columns, now,
    (e) => "event-" + e.kind.replaceAll("_", "-"));
}
