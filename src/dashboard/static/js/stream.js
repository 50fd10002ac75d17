// A Server-Sent Events connection that reconnects by itself.
//
// Why not rely on EventSource's own retry: after a non-200 answer (a 503 when the SSE app is
// full, a 401 for an expired ticket) the browser closes the EventSource for good, and a config
// stream needs a fresh ticket in its URL on every attempt anyway. So every error closes the
// source at once and we reconnect with capped exponential backoff and jitter, resuming after
// the last event id through the `last_event_id` query parameter (no custom header, so no CORS
// preflight). The source is a FetchEventSource, which also says why a connection was refused:
// a 503 (our stream limit) or a 429 (Lambda's concurrency limit) shows as "busy".

import { FetchEventSource } from "./eventstream.js";

import { CORRELATION_ID } from "./api.js";

export const State = Object.freeze({
  CONNECTING: "connecting",
  CONNECTED: "connected",
  RECONNECTING: "reconnecting",
  BUSY: "busy",
  PAUSED: "paused",
  OFFLINE: "offline",
});

/** Answers that mean "full, come back later": ours (503) and Lambda's throttling (429). */
export function isBusy(status) {
  return status === 429 || status === 503;
}

const DEFAULTS = {
  minDelayMs: 500,
  maxDelayMs: 15_000,
  jitter: 0.2,
  // Consecutive failed attempts after which the indicator says Offline (retries go on).
  offlineAfterFailures: 8,
  // No event at all this long after connecting: the attempt has failed.
  firstEventTimeoutMs: 20_000,
  // Heartbeats are every 30 s unless we observe them faster; silence for this many
  // intervals means the connection is dead even if the socket looks open.
  assumedHeartbeatMs: 30_000,
  missedHeartbeats: 2.5,
  // A connection that delivered events for this long was a good one: the backoff starts over.
  // Shorter-lived ones (a server failing right after the greeting) keep backing off.
  healthyAfterMs: 2_000,
};

/**
 * The delay before reconnect attempt ``failures`` (1, 2, ...): 0.5 s doubling, ±20 % jitter so
 * clients that lost the same server do not return as a herd, never over 15 s.
 */
export function backoffDelay(failures, options = DEFAULTS, random = Math.random) {
  const { minDelayMs, maxDelayMs, jitter } = { ...DEFAULTS, ...options };
  const base = Math.min(maxDelayMs, minDelayMs * 2 ** Math.max(0, failures - 1));
  return Math.min(maxDelayMs, Math.round(base * (1 + jitter * (2 * random() - 1))));
}

/** ``url`` with this page's ``correlation_id`` (EventSource cannot send the header). */
export function withCorrelationId(url, correlationId = CORRELATION_ID) {
  const tagged = new URL(url, window.location.href);
  tagged.searchParams.set("correlation_id", correlationId);
  return tagged.toString();
}

/** ``url`` with ``last_event_id`` set (or left alone when there is no id yet). */
export function withLastEventId(url, lastEventId) {
  if (!lastEventId) return url;
  const resumed = new URL(url, window.location.href);
  resumed.searchParams.set("last_event_id", lastEventId);
  return resumed.toString();
}

export class ResilientStream {
  /**
   * @param {object} options
   * @param {(lastEventId: string|null) => Promise<string>} options.url  builds each attempt's URL
   * @param {string[]} options.events  event types to listen for
   * @param {(type: string, data: any, id: string) => void} options.onEvent
   * @param {(state: string, info: {failures: number, retryAt: number|null, detail: string}) =>
   *   void} options.onState
   * @param {(info: {resumed: boolean}) => void} [options.onOpen]  first event of each connection
   * @param {(error: Error) => void} [options.onUrlError]  building the URL failed
   * @param {typeof EventSource} [options.eventSource]  the source class (tests swap it)
   */
  constructor(options) {
    this.options = { ...DEFAULTS, eventSource: FetchEventSource, ...options };
    this.source = null;
    this.generation = 0;
    this.failures = 0;
    this.lastEventId = null;
    this.state = null;
    this.running = false;
    this.paused = false;
    this.retryTimer = null;
    this.watchdog = null;
    this.heartbeatMs = this.options.assumedHeartbeatMs;
    this.lastHeartbeatAt = null;
    this.openedAt = null; // when the current connection delivered its first event
    this.onOnline = () => this.handleOnline();
    this.onOffline = () => this.handleOffline();
  }

  start() {
    if (this.running) return;
    this.running = true;
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    this.setState(State.CONNECTING);
    this.connect();
  }

  stop() {
    this.running = false;
    this.generation += 1;
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    this.closeSource();
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** Close the connection but keep the last event id (a hidden tab holds no server). */
  pause() {
    if (!this.running || this.paused) return;
    this.paused = true;
    this.generation += 1;
    this.closeSource();
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.setState(State.PAUSED);
  }

  /** Reconnect after pause(), resuming after the last event id: nothing lost. */
  resume() {
    if (!this.running || !this.paused) return;
    this.paused = false;
    this.failures = 0;
    this.setState(State.RECONNECTING);
    this.connect();
  }

  async connect() {
    const generation = ++this.generation;
    this.retryTimer = null;
    if (!navigator.onLine) {
      this.setState(State.OFFLINE);
      return; // handleOnline() resumes
    }
    const resumed = Boolean(this.lastEventId);
    let url;
    try {
      url = await this.options.url(this.lastEventId);
    } catch (error) {
      if (generation !== this.generation) return;
      if (this.options.onUrlError) this.options.onUrlError(error);
      // A ticket refused by a busy API is "busy" too.
      const refused = error && error.status ? { status: error.status, detail: "" } : null;
      if (this.running) this.fail(generation, refused);
      return;
    }
    if (generation !== this.generation || !this.running) return;

    const source = new this.options.eventSource(withCorrelationId(url));
    this.source = source;
    this.lastHeartbeatAt = null;
    this.openedAt = null;
    let opened = false;
    const receive = (event) => {
      if (generation !== this.generation) return;
      if (event.lastEventId) this.lastEventId = event.lastEventId;
      if (event.type === "heartbeat") this.observeHeartbeat();
      this.armWatchdog(generation, this.liveTimeout());
      if (!opened) {
        opened = true;
        this.openedAt = Date.now();
        if (this.state !== State.CONNECTED) this.setState(State.CONNECTED);
        if (this.options.onOpen) this.options.onOpen({ resumed });
      }
      let data = null;
      try {
        data = event.data ? JSON.parse(event.data) : null;
      } catch {
        return; // not ours to interpret; the id has been kept all the same
      }
      this.options.onEvent(event.type, data, event.lastEventId);
    };
    for (const type of this.options.events) source.addEventListener(type, receive);
    // Any error (refused, non-200, dropped, or a clean end of stream): close and take over.
    source.onerror = () => {
      if (generation === this.generation) this.fail(generation);
    };
    this.armWatchdog(generation, this.options.firstEventTimeoutMs);
  }

  /** The attempt failed (``failure``: why the server refused it, when that is known). */
  fail(generation, failure = null) {
    if (generation !== this.generation || !this.running || this.paused) return;
    const lived = this.openedAt === null ? -1 : Date.now() - this.openedAt;
    const wasHealthy = lived >= this.options.healthyAfterMs;
    failure ||= (this.source && this.source.failure) || null;
    // Ids of events without data (the server's "closing" note) are ids all the same.
    if (this.source && this.source.lastEventId) this.lastEventId = this.source.lastEventId;
    this.closeSource();
    if (wasHealthy) this.failures = 0;
    this.failures += 1;
    const delay = backoffDelay(this.failures, this.options);
    // A full service answered: same backoff as any failure, but the page says why.
    const busy = Boolean(failure && isBusy(failure.status)) && navigator.onLine;
    const offline = !busy
      && (!navigator.onLine || this.failures >= this.options.offlineAfterFailures);
    // A healthy stream that ends (the server rotates streams before its Lambda deadline) is
    // resumed at once and quietly: only a failed retry is worth announcing.
    const quiet = wasHealthy && this.failures === 1 && !offline && !busy;
    if (!quiet) {
      const state = busy ? State.BUSY : offline ? State.OFFLINE : State.RECONNECTING;
      this.setState(state, Date.now() + delay, failure ? failure.detail : "");
    }
    if (!navigator.onLine) return; // handleOnline() resumes
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  observeHeartbeat() {
    const now = Date.now();
    if (this.lastHeartbeatAt !== null) {
      const gap = now - this.lastHeartbeatAt;
      // The first heartbeat comes right at connect; later ones tell the real interval.
      if (gap > 200) this.heartbeatMs = Math.min(this.options.assumedHeartbeatMs, gap);
    }
    this.lastHeartbeatAt = now;
  }

  liveTimeout() {
    return Math.max(5_000, this.heartbeatMs * this.options.missedHeartbeats);
  }

  armWatchdog(generation, timeoutMs) {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.fail(generation), timeoutMs);
  }

  closeSource() {
    clearTimeout(this.watchdog);
    this.watchdog = null;
    this.openedAt = null;
    if (this.source) {
      this.source.onerror = null;
      this.source.close();
      this.source = null;
    }
  }

  handleOffline() {
    if (!this.running || this.paused) return;
    this.generation += 1;
    this.closeSource();
    clearTimeout(this.retryTimer);
    this.setState(State.OFFLINE);
  }

  handleOnline() {
    if (!this.running || this.paused) return;
    clearTimeout(this.retryTimer);
    this.failures = 0;
    this.setState(State.RECONNECTING);
    this.connect();
  }

  setState(state, retryAt = null, detail = "") {
    this.state = state;
    this.options.onState(state, { failures: this.failures, retryAt, detail });
  }
}
