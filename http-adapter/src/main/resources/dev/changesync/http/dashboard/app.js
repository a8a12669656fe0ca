// The dashboard: polls the read routes every 2 s and redraws in place, keeping filters, the open
// detail view and the scroll position; says so when the server cannot be reached and carries on
// when it is back.
import { api, ApiError, Unreachable } from "./api.js";
import { setupActions, showAdmin } from "./actions.js";
import { renderDetail, renderHistory, renderLeases, renderRepositories, renderWorkers } from "./views.js";

const POLL_EVERY_MS = 2000;
const $ = (id) => document.getElementById(id);

const state = {
  server: null, data: null, selected: null, historyResource: null,
  timer: null, running: false, again: false,
};

function render() {
  const d = state.data;
  if (!d) return;
  renderRepositories(d.repos, $("repo-filter").value, $("repo-sort").value);
  renderDetail(d.detail);
  renderLeases(d.leases);
  renderWorkers(d.workers, d.leases);
  const names = new Map(d.repos.repositories.map((r) => ["repo:" + r.repository_id, r.full_name]));
  renderHistory(d.events.events, $("history-filter").value, names, d.leases.now);
}

function connection(ok, text) {
  const c = $("connection");
  c.textContent = text;
  c.className = "connection " + (ok ? "ok" : "down");
  document.body.classList.toggle("disconnected", !ok);
}

function banner(text) {
  $("banner").textContent = text || "";
  $("banner").hidden = !text;
}

/**
 * The resource the history filter names exactly — `repo:42`, or a tracked repository's name — so
 * that the server is asked for that resource's events, however old; else null (the latest 200).
 */
function historyResource() {
  const text = $("history-filter").value.trim();
  if (/^[A-Za-z_-]+:[^\s/]+$/.test(text)) return text;
  const repo = state.data?.repos.repositories.find((r) => r.full_name.toLowerCase() === text.toLowerCase());
  return repo ? "repo:" + repo.repository_id : null;
}

async function load() {
  if (!state.server) {
    state.server = await api.server();
    $("server-version").textContent = "version " + state.server.version;
  }
  const resource = historyResource();
  const [repos, leases, workers, events] =
    await Promise.all([api.repositories(), api.leases(), api.workers(), api.events(resource)]);
  let detail = null;
  if (state.selected) {
    try {
      const [status, pulls] = await Promise.all([api.status(state.selected), api.pulls(state.selected)]);
      detail = { status, pulls };
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw e;
      state.selected = null; // no longer tracked
    }
  }
  state.historyResource = resource;
  return { repos, leases, workers, events, detail };
}

async function poll() {
  clearTimeout(state.timer);
  if (state.running) {
    state.again = true;
    return;
  }
  state.running = true;
  try {
    const data = await load();
    const selectedChanged = (state.data?.detail?.status.full_name || null) !== (data.detail?.status.full_name || null);
    state.data = data;
    banner(null);
    connection(true, "live");
    $("updated").textContent = "updated " + new Date().toLocaleTimeString();
    showAdmin(state.server, false);
    render();
    if (selectedChanged && data.detail) {
      $("detail-mode").value = data.detail.status.backfill_mode;
      $("detail-priority").value = data.detail.status.backfill_priority;
    }
  } catch (e) {
    if (e instanceof Unreachable) {
      state.server = null; // it may come back as another build: read it again
      connection(false, "unreachable");
      banner("Server unreachable: showing what was last seen; trying again every 2 s.");
    } else if (e instanceof ApiError && e.status === 401) {
      connection(false, "token needed");
      banner("This server needs a token to read (" + e.message + "): enter the read or admin token.");
      showAdmin(state.server, true);
    } else if (e instanceof ApiError && e.status === 503) {
      connection(false, "not ready");
      banner("Server not ready: " + e.message + ". Trying again every 2 s.");
    } else {
      connection(false, "error");
      banner("Reading the server failed: " + e.message);
    }
  } finally {
    state.running = false;
    const again = state.again;
    state.again = false;
    state.timer = setTimeout(poll, again ? 0 : POLL_EVERY_MS);
  }
}

function open(name) {
  state.selected = name;
  poll();
}

$("repo-filter").addEventListener("input", render);
$("repo-sort").addEventListener("change", render);
$("history-filter").addEventListener("input", () => {
  render();
  if (historyResource() !== state.historyResource) poll();
});
$("repo-table").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action=open]");
  if (button) open(button.closest("tr").item.full_name);
});
$("detail-close").addEventListener("click", () => {
  state.selected = null;
  if (state.data) state.data.detail = null;
  renderDetail(null);
});
setupActions({ server: () => state.server, selected: () => state.selected, refresh: poll });
poll();
