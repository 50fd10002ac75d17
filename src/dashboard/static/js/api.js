// The dashboard REST API (same origin) and the anonymous session kept in localStorage.

const SESSION_KEY = "sentiment.session";
// A session this close to expiry is replaced rather than used.
const SESSION_MARGIN_MS = 60_000;

/** An HTTP error with the API's ``detail`` turned into one readable sentence. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(describeDetail(status, detail));
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
  }
}

/** FastAPI details are a string, or (422) a list of {loc, msg}. */
export function describeDetail(status, detail) {
  if (typeof detail === "string" && detail) return detail;
  if (Array.isArray(detail) && detail.length) {
    return detail
      .map((error) => {
        const where = (error.loc || []).filter((part) => part !== "body").join(".");
        const message = String(error.msg || "invalid").replace(/^Value error, /, "");
        return where ? `${where}: ${message}` : message;
      })
      .join("; ");
  }
  if (status === 0) return "the server could not be reached";
  return `request failed with status ${status}`;
}

/** fetch() a JSON API path; resolves to the parsed body (null for 204), rejects with ApiError. */
export async function request(path, { method = "GET", body, token, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: "no-store",
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, null);
  }
  if (response.status === 204) return null;
  const payload = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, payload && payload.detail);
  return payload;
}

export const api = {
  runtimeConfig: () => request("/api/v2/runtime-config"),

  metrics: (tickers, signal) => {
    const query = tickers ? `?tickers=${tickers.map(encodeURIComponent).join(",")}` : "";
    return request(`/api/v2/metrics${query}`, { signal });
  },

  items: ({ limit = 20, ticker } = {}, signal) => {
    const query = new URLSearchParams({ limit: String(limit) });
    if (ticker) query.set("ticker", ticker);
    return request(`/api/v2/items?${query}`, { signal });
  },

  createSession: () => request("/api/v2/auth/anonymous", { method: "POST" }),
};

/** The anonymous session: created on demand, kept in localStorage, replaced when rejected. */
export class SessionStore {
  constructor(storage = window.localStorage) {
    this.storage = storage;
  }

  /** The stored session if it is still valid, else null (never creates one). */
  current() {
    let session = null;
    try {
      session = JSON.parse(this.storage.getItem(SESSION_KEY) || "null");
    } catch {
      session = null;
    }
    if (!session || !session.token) return null;
    const expires = Date.parse(session.expires_at);
    if (Number.isFinite(expires) && expires - Date.now() < SESSION_MARGIN_MS) return null;
    return session;
  }

  /** The current session, creating (and storing) a new anonymous one if needed. */
  async ensure() {
    const existing = this.current();
    if (existing) return existing;
    const session = await api.createSession();
    this.storage.setItem(SESSION_KEY, JSON.stringify(session));
    return session;
  }

  forget() {
    this.storage.removeItem(SESSION_KEY);
  }

  /** A request with the session's bearer token (the session is created if there is none). */
  async authed(path, options = {}) {
    const session = await this.ensure();
    try {
      return await request(path, { ...options, token: session.token });
    } catch (error) {
      // A token signed with an old secret, or expired server-side: it can never work again.
      if (error instanceof ApiError && error.status === 401) this.forget();
      throw error;
    }
  }
}

/** Configuration endpoints, all with the session's bearer token. */
export function configurationsApi(sessions) {
  const base = "/api/v2/configurations";
  return {
    list: () => sessions.authed(base),
    create: (body) => sessions.authed(base, { method: "POST", body }),
    update: (id, body) => sessions.authed(`${base}/${id}`, { method: "PATCH", body }),
    remove: (id) => sessions.authed(`${base}/${id}`, { method: "DELETE" }),
    ticket: (id) => sessions.authed(`${base}/${id}/stream-ticket`, { method: "POST" }),
  };
}
