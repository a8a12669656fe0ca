// Talking to the server: the read routes, the admin routes with the bearer token, and what a
// failure means (unreachable, refused, or an error with the server's message).

const TOKEN_KEY = "changesync.token";

/** The token the operator entered, kept for this tab only (never a cookie, never in a URL). */
export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** A request that got an answer other than 2xx: status and the server's message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The server could not be reached at all (stopped, network down). */
export class Unreachable extends Error {}

async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  const t = token.get();
  if (t) headers.Authorization = "Bearer " + t;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch (e) {
    throw new Unreachable(String(e));
  }
  let json = null;
  try {
    json = await response.json();
  } catch (e) {
    json = null;
  }
  if (!response.ok) {
    const message = json && json.message ? json.message : "HTTP " + response.status;
    throw new ApiError(response.status, message);
  }
  return json;
}

const API = "/v1/changes";
const repoPath = (fullName) =>
  API + "/repos/" + fullName.split("/").map(encodeURIComponent).join("/");

export const api = {
  server: () => request("GET", API + "/server"),
  repositories: () => request("GET", API + "/repos?limit=1000"),
  leases: () => request("GET", API + "/leases"),
  workers: () => request("GET", API + "/workers"),
  events: (resource) => request("GET", API + "/leases/events?limit=200"
    + (resource ? "&resource=" + encodeURIComponent(resource) : "")),
  status: (name) => request("GET", repoPath(name) + "/status"),
  pulls: (name) => request("GET", repoPath(name) + "/pulls?limit=200"),
  track: (name, mode, priority) =>
    request("POST", repoPath(name) + "/backfill", { mode, priority }),
  fetchNow: (name) => request("POST", repoPath(name) + "/fetch"),
  recover: () => request("POST", API + "/recover"),
  release: (resource, lane) =>
    request("POST", API + "/leases/release", { resource, lane, actor: "dashboard" }),
};
