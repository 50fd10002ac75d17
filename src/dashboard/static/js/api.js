// The dashboard REST API (same origin) and the anonymous session kept in localStorage.

const SESSION_KEY = "sentiment.session";

// A session this close to expiry is replaced rather than used.
const SESSION_MARGIN_MS = 60_000;

/** One id per page load, sent to both functions (``X-Correlation-Id``, and ``correlation_id`` on
 * stream URLs) so their logs for this page can be found together (docs/operations.md). */
export const CORRELATION_ID = Array.from(
  crypto.getRandomValues(new Uint8Array(16)),
  (byte) => byte.toString(16).padStart(2, "0"),
).join("");

/** An HTTP error with the API's ``detail`` turned into one readable sentence. */
export class ApiError extends Error {
  constructor(status, detail, { invalidToken = false } = {}) {
    super(describeDetail(status, detail));
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    // The server said the token can never work again (expired, or signed with a key it no longer
    // accepts); any other 401 leaves the session alone.
    this.invalidToken = invalidToken;
  }
}

/** RFC 6750: ``WWW-Authenticate: Bearer error="invalid_token", ...`` on a dead token. */
export function saysInvalidToken(response) {
  const challenge = response.headers.get("WWW-Authenticate") || "";
  return response.status === 401 && /^Bearer\b.*\berror="invalid_token"/i.test(challenge);
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
  const headers = { Accept: "application/json", "X-Correlation-Id": CORRELATION_ID };
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
  if (!response.ok) {
    throw new ApiError(response.status, payload && payload.detail, {
      invalidToken: saysInvalidToken(response),
    });
  }
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

/** The anonymous session: created on demand, kept in localStorage, replaced only when the server
 * says its token is invalid or expired (a key rotation keeps it valid: docs/deploy.md). */
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
      // Only a token the server calls invalid can never work again; dropping the session on any
      // other 401 would lose the user's watch lists for nothing.
      if (error instanceof ApiError && error.invalidToken) this.forget();
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
