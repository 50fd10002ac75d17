// The dashboard page: wires the REST snapshot, the live stream and the widgets together.

import { ApiError, SessionStore, api, configurationsApi } from "./api.js";
import { HourlyChart } from "./chart.js";
import { ConfigPanel } from "./configs.js";
import { Feed } from "./feed.js";
import { formatAge, h, keepingFocus } from "./format.js";
import { MetricsView } from "./metrics.js";
import { ResilientStream, State, withLastEventId } from "./stream.js";
import { TicketKeeper } from "./tickets.js";

const FEED_LIMIT = 50;
const SEED_ITEMS = 20;
const VIEW_KEY = "sentiment.view";
const TOAST_MS = 10_000;
const STATE_LABELS = {
  [State.CONNECTING]: "Connecting",
  [State.CONNECTED]: "Connected",
  [State.RECONNECTING]: "Reconnecting",
  [State.OFFLINE]: "Offline",
};

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

class Dashboard {
  constructor() {
    this.sessions = new SessionStore();
    this.configsApi = configurationsApi(this.sessions);
    this.metrics = new MetricsView(document.body);
    this.chart = new HourlyChart($("hourly-chart"));
    this.feed = new Feed({ list: $("feed"), empty: $("feed-empty"), count: $("feed-count"),
      limit: FEED_LIMIT });
    this.configs = new ConfigPanel({
      root: document.querySelector(".panel--configs"),
      api: this.configsApi,
      sessions: this.sessions,
      onChange: (configs) => this.configsChanged(configs),
      onSelect: (config) => this.show(config),
      notify: (message) => this.notify(message),
    });
    this.sseUrl = null;
    this.view = null; // null: global; else a configuration
    this.viewToken = 0;
    this.stream = null;
    this.tickets = null;
    this.snapshotTimer = null;
    this.connection = { state: State.CONNECTING, retryAt: null };
    this.updatedAt = null;
    $("view-global").addEventListener("click", () => this.show(null));
  }

  async start() {
    this.renderConnection();
    setInterval(() => this.tick(), 1000);
    const runtime = await this.runtimeConfig();
    this.sseUrl = (runtime.sse_url || window.location.origin).replace(/\/+$/, "");
    if (runtime.environment) {
      $("environment").textContent = runtime.environment;
      $("environment").hidden = false;
    }
    await this.configs.load();
    const saved = window.localStorage.getItem(VIEW_KEY);
    this.show(this.configs.configs.find((config) => config.config_id === saved) || null);
  }

  /** GET /api/v2/runtime-config, retried until the API answers. */
  async runtimeConfig() {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await api.runtimeConfig();
      } catch (error) {
        if (attempt === 2) {
          this.notify(`The dashboard API is not answering (${error.message}); retrying.`);
        }
        const delay = Math.min(15_000, 500 * 2 ** attempt);
        this.setConnection(State.RECONNECTING, Date.now() + delay);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  // --- views ------------------------------------------------------------------------------

  /** Switch to everything (null) or one configuration: new snapshot, new stream. */
  show(config) {
    const same = (a, b) => (a && b
      ? a.config_id === b.config_id && a.tickers.join(",") === b.tickers.join(",")
      : a === b);
    if (this.stream && same(this.view, config)) return; // already showing it
    this.stopView();
    const token = ++this.viewToken;
    this.view = config;
    window.localStorage.setItem(VIEW_KEY, config ? config.config_id : "global");
    const tickers = config ? config.tickers : null;
    this.feed.reset(tickers);
    this.metrics.reset();
    this.chart.update(null);
    this.updatedAt = null;
    this.renderViews();
    this.configs.setActive(config ? config.config_id : null);
    this.loadSnapshot(token);

    if (config) this.tickets = new TicketKeeper(() => this.configsApi.ticket(config.config_id));
    this.stream = new ResilientStream({
      url: (lastEventId) => this.streamUrl(config, lastEventId),
      events: ["heartbeat", "metrics", "new_item", "resync"],
      onEvent: (type, data) => this.onEvent(token, type, data),
      onState: (state, { retryAt }) => this.setConnection(state, retryAt),
      // A stream that did not resume starts "now": reload the snapshot so nothing falls
      // between the REST answer and the stream's start.
      onOpen: ({ resumed }) => {
        if (!resumed) this.loadSnapshot(token);
      },
      onUrlError: (error) => this.streamUrlFailed(config, error),
    });
    this.stream.start();
  }

  stopView() {
    if (this.stream) this.stream.stop();
    if (this.tickets) this.tickets.stop();
    clearTimeout(this.snapshotTimer);
    this.stream = null;
    this.tickets = null;
  }

  async streamUrl(config, lastEventId) {
    if (!config) return withLastEventId(`${this.sseUrl}/api/v2/stream`, lastEventId);
    const ticket = await this.tickets.fresh();
    const url = `${this.sseUrl}/api/v2/configurations/${encodeURIComponent(config.config_id)}`
      + `/stream?ticket=${encodeURIComponent(ticket)}`;
    return withLastEventId(url, lastEventId);
  }

  /** The configuration is gone (404) or the session is (401): back to everything. */
  streamUrlFailed(config, error) {
    if (!(error instanceof ApiError) || ![401, 404].includes(error.status)) return;
    this.notify(error.status === 404
      ? `The watch list “${config.name}” no longer exists; showing all tickers.`
      : "Your session has expired; showing all tickers.");
    this.show(null);
    this.configs.load();
  }

  configsChanged(configs) {
    this.renderViews();
    if (!this.view) return;
    const current = configs.find((config) => config.config_id === this.view.config_id);
    if (!current) this.show(null);
    else if (current.tickers.join(",") !== this.view.tickers.join(",")) this.show(current);
    else if (current.name !== this.view.name) {
      this.view = current;
      this.renderViews();
    }
  }

  renderViews() {
    const switcher = $("view-switcher");
    const activeId = this.view ? this.view.config_id : null;
    const global = $("view-global");
    global.setAttribute("aria-pressed", String(activeId === null));
    const chips = this.configs.configs.map((config) => {
      const chip = h("button", {
        type: "button",
        class: "chip",
        "aria-pressed": String(config.config_id === activeId),
        "data-testid": "view-config",
        dataset: { configId: config.config_id },
      }, config.name);
      chip.addEventListener("click", () => this.show(config));
      return chip;
    });
    keepingFocus(switcher, () => switcher.replaceChildren(global, ...chips));
    this.renderSummary();
  }

  renderSummary() {
    const scope = this.view ? `${this.view.tickers.join(", ")}` : "Every ticker";
    const updated = this.updatedAt ? ` · updated ${formatAge(this.updatedAt)}` : "";
    const text = `${scope} · last 24 hours${updated}`;
    const summary = $("view-summary");
    if (summary.textContent !== text) summary.textContent = text;
  }

  // --- data -------------------------------------------------------------------------------

  /** The REST snapshot: metrics and the newest items (per ticker for a configuration). */
  async loadSnapshot(token, attempt = 1) {
    clearTimeout(this.snapshotTimer);
    const tickers = this.view ? this.view.tickers : null;
    try {
      const [metrics, items] = await Promise.all([
        api.metrics(tickers),
        tickers
          ? Promise.all(tickers.map((ticker) => api.items({ limit: SEED_ITEMS, ticker })))
            .then((pages) => pages.flatMap((page) => page.items))
          : api.items({ limit: SEED_ITEMS }).then((page) => page.items),
      ]);
      if (token !== this.viewToken) return;
      this.applyMetrics(metrics);
      this.feed.add(items);
    } catch (error) {
      if (token !== this.viewToken) return;
      if (attempt === 1) this.notify(`Could not load the dashboard data: ${error.message}`);
      const delay = Math.min(30_000, 1000 * 2 ** attempt);
      this.snapshotTimer = setTimeout(() => this.loadSnapshot(token, attempt + 1), delay);
    }
  }

  onEvent(token, type, data) {
    if (token !== this.viewToken) return;
    if (type === "metrics") this.applyMetrics(data);
    else if (type === "new_item") this.feed.add([data], { highlight: true });
    else if (type === "resync") this.loadSnapshot(token);
  }

  applyMetrics(metrics) {
    if (this.metrics.update(metrics)) {
      this.chart.update(metrics.hourly);
      this.updatedAt = Date.now();
      this.renderSummary();
    }
  }

  // --- connection indicator, errors, clock ------------------------------------------------

  setConnection(state, retryAt = null) {
    this.connection = { state, retryAt };
    this.renderConnection();
  }

  renderConnection() {
    const { state, retryAt } = this.connection;
    const root = $("connection");
    root.dataset.state = state;
    const label = $("connection-status");
    if (label.textContent !== STATE_LABELS[state]) label.textContent = STATE_LABELS[state];
    let detail = "";
    if (state === State.OFFLINE && !navigator.onLine) detail = "no network";
    else if (retryAt && state !== State.CONNECTED) {
      const seconds = Math.ceil((retryAt - Date.now()) / 1000);
      detail = seconds > 0 ? `retry in ${seconds} s` : "retrying…";
    }
    const element = $("connection-detail");
    if (element.textContent !== detail) element.textContent = detail;
  }

  tick() {
    this.feed.tick();
    this.renderConnection();
    this.renderSummary();
  }

  /** Show an error to the user (dismissable, and gone after a while). */
  notify(message) {
    const close = h("button", { type: "button", class: "toast__close", "aria-label": "Dismiss" },
      "×");
    const toast = h("div", { class: "toast", "data-testid": "error-toast" },
      h("span", { class: "toast__text" }, message), close);
    const dismiss = () => toast.remove();
    close.addEventListener("click", dismiss);
    setTimeout(dismiss, TOAST_MS);
    const region = $("errors");
    // The same message twice in a row is one toast.
    for (const existing of region.querySelectorAll(".toast__text")) {
      if (existing.textContent === message) existing.parentElement.remove();
    }
    region.append(toast);
  }
}

new Dashboard().start();
