// The dashboard page: wires the REST snapshot, the live stream and the widgets together.

import { ApiError, SessionStore, api, configurationsApi } from "./api.js";
import { HourlyChart } from "./chart.js";
import { ConfigPanel } from "./configs.js";
import { Feed } from "./feed.js";
import { focusFirst, formatAge, h, holdsFocus, keepingFocus } from "./format.js";
import { MetricsView } from "./metrics.js";
import { ResilientStream, State, backoffDelay, isBusy, withLastEventId } from "./stream.js";
import { TicketKeeper } from "./tickets.js";

const FEED_LIMIT = 50;
const SEED_ITEMS = 20;
const VIEW_KEY = "sentiment.view";
const TOAST_MS = 10_000;
// REST retries back off like stream reconnects, up to a longer ceiling.
const SNAPSHOT_BACKOFF = { maxDelayMs: 30_000 };
// A stream this slow to open (a busy or unreachable SSE app) does not keep the feed empty.
const ITEMS_WITHOUT_STREAM_MS = 3_000;
// A tab hidden this long lets go of its stream (on Lambda, one stream holds one execution
// environment); a quick look at another tab keeps it.
const HIDDEN_GRACE_MS = 5_000;
const STATE_LABELS = {
  [State.CONNECTING]: "Connecting",
  [State.CONNECTED]: "Connected",
  [State.RECONNECTING]: "Reconnecting",
  [State.BUSY]: "Busy",
  [State.PAUSED]: "Paused",
  [State.OFFLINE]: "Offline",
};

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

/** The toast text for a failed REST call: busy services are named as such. */
function failureMessage(what, error, delay) {
  const seconds = Math.max(1, Math.round(delay / 1000));
  if (error instanceof ApiError && isBusy(error.status)) {
    return `The service is busy; retrying ${what} in ${seconds} s.`;
  }
  return `Could not load ${what}: ${error.message}. Retrying in ${seconds} s.`;
}

class Dashboard {
  constructor() {
    this.sessions = new SessionStore();
    this.configsApi = configurationsApi(this.sessions);
    this.metrics = new MetricsView(document.body);
    this.chart = new HourlyChart($("hourly-chart"), $("chart-table"));
    this.feed = new Feed({
      list: $("feed"), empty: $("feed-empty"), count: $("feed-count"),
      announcer: $("feed-announcer"), pause: $("feed-pause"),
      heading: document.getElementById("feed-heading"), limit: FEED_LIMIT,
    });
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
    this.mintTicket = null; // a watch list's stream tickets come from here
    this.timers = {}; // pending loads: metrics, items
    this.failures = {}; // dismissers of the toasts saying a load failed
    this.hiddenTimer = null;
    this.connection = { state: State.CONNECTING, retryAt: null };
    this.updatedAt = null;
    $("view-global").addEventListener("click", () => this.show(null));
    document.addEventListener("visibilitychange", () => this.visibilityChanged());
  }

  async start() {
    trackTopbarHeight();
    this.renderConnection();
    setInterval(() => this.tick(), 1000);
    const runtime = await this.runtimeConfig();
    this.sseUrl = (runtime.sse_url || window.location.origin).replace(/\/+$/, "");
    if (runtime.environment) {
      $("environment").textContent = runtime.environment;
      $("environment").hidden = false;
    }
    this.configs.rules = runtime.watch_lists;
    this.configs.max = runtime.watch_lists.max_watch_lists;
    await this.configs.load();
    const saved = window.localStorage.getItem(VIEW_KEY);
    this.show(this.configs.configs.find((config) => config.config_id === saved) || null);
  }

  /** GET /api/v2/runtime-config, retried (with backoff) until the API answers. */
  async runtimeConfig() {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await api.runtimeConfig();
      } catch (error) {
        const delay = backoffDelay(attempt, SNAPSHOT_BACKOFF);
        if (attempt === 2) this.notify(failureMessage("the dashboard", error, delay));
        const busy = error instanceof ApiError && isBusy(error.status);
        this.setConnection(busy ? State.BUSY : State.RECONNECTING, Date.now() + delay);
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

    this.mintTicket = config ? () => this.configsApi.ticket(config.config_id) : null;
    if (config) this.tickets = new TicketKeeper(this.mintTicket);
    this.stream = new ResilientStream({
      url: (lastEventId) => this.streamUrl(config, lastEventId),
      events: ["heartbeat", "metrics", "new_item", "resync"],
      onEvent: (type, data) => this.onEvent(token, type, data),
      onState: (state, { retryAt }) => this.setConnection(state, retryAt),
      // A stream that did not resume starts "now": the newest items are read once it has,
      // so nothing falls between the two, and they are read once per view.
      onOpen: ({ resumed }) => {
        if (!resumed) this.loadItems(token);
      },
      onUrlError: (error) => this.streamUrlFailed(config, error),
    });
    this.stream.start();
    this.loadMetrics(token);
    this.timers.items = setTimeout(() => this.loadItems(token), ITEMS_WITHOUT_STREAM_MS);
  }

  stopView() {
    if (this.stream) this.stream.stop();
    if (this.tickets) this.tickets.stop();
    for (const timer of Object.values(this.timers)) clearTimeout(timer);
    this.timers = {};
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

  /** A hidden tab closes its stream (after a grace period); visible again, it resumes. */
  visibilityChanged() {
    clearTimeout(this.hiddenTimer);
    if (document.visibilityState === "hidden") {
      this.hiddenTimer = setTimeout(() => {
        if (!this.stream) return;
        this.stream.pause();
        if (this.tickets) this.tickets.stop(); // no ticket renewals for a hidden tab
      }, HIDDEN_GRACE_MS);
    } else if (this.stream && this.stream.paused) {
      if (this.mintTicket) this.tickets = new TicketKeeper(this.mintTicket);
      this.stream.resume();
    }
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
    const hadFocus = holdsFocus(switcher);
    keepingFocus(switcher, () => switcher.replaceChildren(global, ...chips));
    // The focused chip's watch list was deleted: the "All tickers" chip takes the focus.
    if (hadFocus && !holdsFocus(switcher)) focusFirst(global);
    const heading = $("page-heading");
    const title = `Sentiment dashboard: ${this.view ? this.view.name : "all tickers"}`;
    if (heading.textContent !== title) heading.textContent = title;
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

  /** The REST snapshot: the figures and the newest items (per ticker for a watch list). */
  loadSnapshot(token) {
    this.loadMetrics(token);
    this.loadItems(token);
  }

  async loadMetrics(token, attempt = 1) {
    clearTimeout(this.timers.metrics);
    try {
      const metrics = await api.metrics(this.view ? this.view.tickers : null);
      if (token !== this.viewToken) return;
      this.applyMetrics(metrics);
      this.settled("metrics");
    } catch (error) {
      this.retry(token, "metrics", attempt, error);
    }
  }

  async loadItems(token, attempt = 1) {
    clearTimeout(this.timers.items);
    const tickers = this.view ? this.view.tickers : null;
    try {
      const pages = await Promise.all(tickers
        ? tickers.map((ticker) => api.items({ limit: SEED_ITEMS, ticker }))
        : [api.items({ limit: SEED_ITEMS })]);
      if (token !== this.viewToken) return;
      this.feed.add(pages.flatMap((page) => page.items));
      this.settled("items");
    } catch (error) {
      this.retry(token, "items", attempt, error);
    }
  }

  /** Say what failed and try again later (backoffDelay: jittered, no storm). */
  retry(token, what, attempt, error) {
    if (token !== this.viewToken) return;
    const delay = backoffDelay(attempt, SNAPSHOT_BACKOFF);
    const label = what === "metrics" ? "the figures" : "the latest items";
    this.settled(what);
    this.failures[what] = this.notify(failureMessage(label, error, delay));
    const load = what === "metrics" ? this.loadMetrics : this.loadItems;
    this.timers[what] = setTimeout(() => load.call(this, token, attempt + 1), delay);
  }

  /** ``what`` loaded (or is about to be retried): its failure toast has had its say. */
  settled(what) {
    if (this.failures[what]) this.failures[what]();
    delete this.failures[what];
  }

  onEvent(token, type, data) {
    if (token !== this.viewToken) return;
    if (type === "metrics") this.applyMetrics(data);
    else if (type === "new_item") this.feed.add([data], { live: true });
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

  /**
   * Show an error to the user; returns a function that dismisses it. A toast stays while the
   * pointer is over it or focus is in it, and gives focus back where it came from.
   */
  notify(message) {
    const close = h("button", { type: "button", class: "toast__close", "aria-label": "Dismiss" },
      "×");
    const toast = h("div", { class: "toast", "data-testid": "error-toast" },
      h("span", { class: "toast__text" }, message), close);
    const region = $("errors");
    let returnTo = null;
    let timer = null;
    let hovered = false;
    const dismiss = () => {
      clearTimeout(timer);
      if (!toast.isConnected) return;
      const hadFocus = holdsFocus(toast);
      toast.remove();
      if (hadFocus) {
        focusFirst(returnTo, region.querySelector(".toast__close"), $("page-heading"));
      }
    };
    const wait = () => {
      clearTimeout(timer);
      if (!hovered && !holdsFocus(toast)) timer = setTimeout(dismiss, TOAST_MS);
    };
    toast.addEventListener("mouseenter", () => {
      hovered = true;
      clearTimeout(timer);
    });
    toast.addEventListener("mouseleave", () => {
      hovered = false;
      wait();
    });
    toast.addEventListener("focusin", (event) => {
      if (event.relatedTarget && !toast.contains(event.relatedTarget)) {
        returnTo = event.relatedTarget;
      }
      clearTimeout(timer);
    });
    toast.addEventListener("focusout", (event) => {
      if (!toast.contains(event.relatedTarget)) wait();
    });
    close.addEventListener("click", dismiss);
    // The same message twice in a row is one toast.
    for (const existing of region.querySelectorAll(".toast__text")) {
      if (existing.textContent === message) existing.parentElement.remove();
    }
    region.append(toast);
    wait();
    return dismiss;
  }
}

/** Keep --topbar-height (the scroll padding under the sticky bar) equal to its real height. */
function trackTopbarHeight() {
  const bar = document.querySelector(".topbar");
  new ResizeObserver(() => {
    document.documentElement.style.setProperty("--topbar-height", `${bar.offsetHeight}px`);
  }).observe(bar);
}

new Dashboard().start();
