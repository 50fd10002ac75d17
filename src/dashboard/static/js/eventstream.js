// Server-sent events over fetch(), with EventSource's interface (addEventListener, onerror,
// close, lastEventId) so ResilientStream can use either.
//
// Why not EventSource itself: it never says why a connection failed. A stream refused because
// the service is full (our 503 at SSE_MAX_CONNECTIONS, Lambda's 429 when its concurrency is
// used up) must read "Busy", not "Reconnecting", and fetch() shows the status. The request
// stays a CORS "simple" GET (only an Accept header), so it costs no preflight.

/**
 * Parses the text/event-stream format (HTML Living Standard, "Server-sent events",
 * interpreting an event stream): lines end in CRLF, LF or CR; a blank line dispatches; `data`
 * lines join with "\n"; `id` sets the last event id even on an event with no data; comments
 * (":") and `retry` are ignored here (ResilientStream owns reconnecting).
 */
export class EventStreamParser {
  /** @param {(event: {type: string, data: string, lastEventId: string}) => void} dispatch */
  constructor(dispatch) {
    this.dispatch = dispatch;
    this.pending = "";
    this.afterCR = false;
    this.data = [];
    this.type = "";
    this.lastEventId = "";
  }

  /** Feed decoded text in chunks of any size. */
  push(chunk) {
    if (!chunk) return;
    // A CR that ended the last chunk ended its line; an LF right after it is the rest of a CRLF.
    const rest = this.afterCR && chunk.startsWith("\n") ? chunk.slice(1) : chunk;
    const text = this.pending + rest;
    this.afterCR = text.endsWith("\r");
    const lines = text.split(/\r\n|\r|\n/);
    this.pending = lines.pop();
    for (const line of lines) this.line(line);
  }

  line(line) {
    if (line === "") {
      this.flush();
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.type = value;
    else if (field === "id" && !value.includes("\0")) this.lastEventId = value;
  }

  flush() {
    const { data, type } = this;
    this.data = [];
    this.type = "";
    if (!data.length) return;
    this.dispatch({ type: type || "message", data: data.join("\n"), lastEventId: this.lastEventId });
  }
}

/** Why a stream answered without streaming: its status and the API's ``detail``, if any. */
async function refusal(response) {
  let detail = "";
  try {
    const body = await response.json();
    if (body && typeof body.detail === "string") detail = body.detail;
  } catch {
    // not JSON (a proxy's or Lambda's own page): the status says enough
  }
  return { status: response.status, detail };
}

export class FetchEventSource {
  /**
   * Connects at once, like ``new EventSource(url)``.
   * @param {string} url
   * @param {{fetch?: typeof fetch}} [options]
   */
  constructor(url, { fetch: fetchImpl = window.fetch.bind(window) } = {}) {
    this.url = url;
    this.listeners = new Map();
    this.onerror = null;
    /** @type {{status: number, detail: string} | null} set when the server refused */
    this.failure = null;
    this.controller = new AbortController();
    this.parser = new EventStreamParser((event) => this.emit(event));
    this.run(fetchImpl);
  }

  /** The id of the last event received (also ids on events without data). */
  get lastEventId() {
    return this.parser.lastEventId;
  }

  addEventListener(type, listener) {
    if (!this.listeners.has(type)) this.listeners.set(type, []);
    this.listeners.get(type).push(listener);
  }

  close() {
    this.controller.abort();
  }

  emit(event) {
    for (const listener of this.listeners.get(event.type) || []) listener(event);
  }

  async run(fetchImpl) {
    const { signal } = this.controller;
    try {
      const response = await fetchImpl(this.url, {
        headers: { Accept: "text/event-stream" },
        cache: "no-store",
        signal,
      });
      const type = response.headers.get("Content-Type") || "";
      if (!response.ok || !type.startsWith("text/event-stream")) {
        this.failure = await refusal(response);
      } else {
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          this.parser.push(value);
        }
      }
    } catch {
      // refused, dropped or aborted: the same error either way
    }
    // Like EventSource: a refusal, a failure and a clean end of stream all end in onerror.
    if (!signal.aborted && this.onerror) this.onerror(new Event("error"));
  }
}
