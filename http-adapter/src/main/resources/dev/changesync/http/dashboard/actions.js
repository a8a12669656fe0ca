// Admin actions: the token form, what each button does, the confirm step of a manual release,
// and the message that says what happened. Nothing is offered unless the server has an admin
// token configured and the operator has entered one.
import { api, ApiError, token, Unreachable } from "./api.js";

const $ = (id) => document.getElementById(id);

export function showMessage(text, kind) {
  const box = $("message");
  box.textContent = text;
  box.className = "message " + (kind || "ok");
  box.hidden = false;
}

/** Shows the admin controls that fit what the server offers and whether a token is entered. */
export function showAdmin(server, readRefused) {
  const configured = !!(server && server.admin_token_configured);
  const readToken = readRefused || !!(server && server.read_token_configured);
  const entered = !!token.get();
  const on = configured && entered && !readRefused;
  document.body.classList.toggle("admin-on", on);
  $("admin-off").hidden = configured || !server;
  $("admin-on").hidden = !on;
  $("token-form").hidden = !(readRefused || (configured && !entered));
  $("token-label").textContent = readToken ? "Read or admin token" : "Admin token";
}

/** Runs one admin call and reports its outcome; a refused token is forgotten (unless reads need it). */
async function act(what, call, done, ctx) {
  try {
    const result = await call();
    showMessage(done(result), "ok");
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      if (!(ctx.server() && ctx.server().read_token_configured)) token.clear();
      showMessage("The admin token was refused (" + e.message + "): " + what
        + " was not done and nothing changed. Enter the admin token again.", "error");
    } else if (e instanceof ApiError && e.status === 403) {
      showMessage("Admin actions are off on this server: " + e.message, "error");
    } else if (e instanceof Unreachable) {
      showMessage("Server unreachable: " + what + " may not have been done.", "error");
    } else {
      showMessage(what + " failed: " + e.message, "error");
    }
  }
  showAdmin(ctx.server(), false);
  ctx.refresh();
}

function confirmRelease(lease) {
  const name = lease.repository ? lease.repository + " (" + lease.resource + ")" : lease.resource;
  $("confirm-text").textContent = "Release the " + lease.lane + " lease of " + name
    + " by hand? It is held by " + lease.owner_id + " with token " + lease.token
    + ". The holder is fenced off: its next heartbeat or write fails.";
  const dialog = $("confirm");
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "cancel";
    dialog.showModal();
  });
}

/**
 * Wires the admin controls. `ctx` gives the server's description, the repository open in the
 * detail view, and a way to poll again at once.
 */
export function setupActions(ctx) {
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token-input").value.trim();
    $("token-input").value = "";
    if (!value) return;
    token.set(value);
    $("message").hidden = true;
    showAdmin(ctx.server(), false);
    ctx.refresh();
  });
  $("token-forget").addEventListener("click", () => {
    token.clear();
    showAdmin(ctx.server(), false);
  });
  $("recover-button").addEventListener("click", () =>
    act("recovery", () => api.recover(),
      (r) => "Recovery ran: " + JSON.stringify(r.recovered || r), ctx));
  $("track-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = $("track-name").value.trim();
    const mode = $("track-mode").value;
    const priority = parseInt($("track-priority").value || "0", 10);
    act("tracking " + name, () => api.track(name, mode, priority),
      () => "Tracking " + name + " (" + mode + ", priority " + priority + "); a fetch is due.", ctx);
  });
  $("detail-fetch").addEventListener("click", () => {
    const name = ctx.selected();
    act("a fetch of " + name, () => api.fetchNow(name), () => "Fetch of " + name + " requested.", ctx);
  });
  $("detail-backfill").addEventListener("click", () => {
    const name = ctx.selected();
    const mode = $("detail-mode").value;
    const priority = parseInt($("detail-priority").value || "0", 10);
    act("the backfill setting of " + name, () => api.track(name, mode, priority),
      () => "Backfill of " + name + ": " + mode + ", priority " + priority + ".", ctx);
  });
  $("lease-table").addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action=release]");
    if (!button) return;
    const lease = { ...button.closest("tr").item };
    if (!(await confirmRelease(lease))) return;
    const name = lease.repository ? lease.repository + " (" + lease.resource + ")" : lease.resource;
    act("the release of " + lease.resource + " " + lease.lane,
      () => api.release(lease.resource, lease.lane),
      (r) => "Released the " + r.lane + " lease of " + name + " by hand: it was held by "
        + r.previous_owner_id + " with token " + r.previous_token + ".", ctx);
  });
}
