// The live feed: newest first, one entry per item_id, at most ``limit`` entries.

import { formatAge, formatDateTime, formatScore, h, parseTime } from "./format.js";

const SENTIMENT_LABELS = { positive: "Positive", neutral: "Neutral", negative: "Negative" };

/** Items sort by when they were stored (then id), like the stream's positions. */
function newerFirst(a, b) {
  return b.time - a.time || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

export class Feed {
  constructor({ list, empty, count, limit = 50 }) {
    this.list = list;
    this.empty = empty;
    this.count = count;
    this.limit = limit;
    this.entries = []; // [{id, time, element}] newest first
    this.byId = new Map();
    this.filter = null;
  }

  /** Only keep items naming one of ``tickers`` (null: everything). Clears the feed. */
  reset(tickers = null) {
    this.filter = tickers ? new Set(tickers) : null;
    this.entries = [];
    this.byId.clear();
    this.list.replaceChildren();
    this.updateChrome();
  }

  /** Add items (any order); duplicates and out-of-view items are ignored. */
  add(items, { highlight = false } = {}) {
    let changed = false;
    for (const item of items) {
      if (!item || !item.item_id || this.byId.has(item.item_id)) continue;
      if (this.filter && !item.tickers.some((ticker) => this.filter.has(ticker))) continue;
      const time = parseTime(item.ingested_at);
      const entry = { id: item.item_id, time: Number.isFinite(time) ? time : Date.now() };
      const index = this.insertionIndex(entry);
      if (index >= this.limit) continue; // older than everything kept
      entry.element = renderItem(item, entry.time, highlight);
      const next = this.entries[index];
      this.list.insertBefore(entry.element, next ? next.element : null);
      this.entries.splice(index, 0, entry);
      this.byId.set(entry.id, entry);
      changed = true;
    }
    while (this.entries.length > this.limit) {
      const dropped = this.entries.pop();
      dropped.element.remove();
      this.byId.delete(dropped.id);
    }
    if (changed) this.updateChrome();
  }

  insertionIndex(entry) {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (newerFirst(this.entries[middle], entry) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Refresh every "12 s ago". */
  tick(now = Date.now()) {
    for (const entry of this.entries) {
      const age = entry.element.querySelector("[data-age]");
      const text = formatAge(entry.time, now);
      if (age.textContent !== text) age.textContent = text;
    }
  }

  updateChrome() {
    this.empty.hidden = this.entries.length > 0;
    this.count.textContent = this.entries.length ? `${this.entries.length} latest` : "";
  }
}

function renderItem(item, time, highlight) {
  const sentiment = SENTIMENT_LABELS[item.sentiment] ? item.sentiment : "neutral";
  const published = parseTime(item.published_at);
  const link = safeUrl(item.url);
  const title = link
    ? h("a", { class: "feed-item__title", href: link, target: "_blank", rel: "noopener noreferrer",
      "data-testid": "feed-item-title" }, item.title)
    : h("span", { class: "feed-item__title", "data-testid": "feed-item-title" }, item.title);
  return h(
    "li",
    {
      class: `feed-item feed-item--${sentiment}${highlight ? " feed-item--new" : ""}`,
      "data-testid": "feed-item",
      dataset: { itemId: item.item_id, sentiment },
    },
    h("span", { class: "feed-item__rail", "aria-hidden": "true" }),
    h("div", { class: "feed-item__body" },
      title,
      h("div", { class: "feed-item__meta" },
        h("span", { class: "feed-item__tickers", "data-testid": "feed-item-tickers" },
          item.tickers.map((ticker) => h("span", { class: "ticker" }, ticker))),
        h("span", { class: "feed-item__source" }, item.source),
        h("time", {
          class: "feed-item__age",
          datetime: new Date(time).toISOString(),
          title: Number.isFinite(published)
            ? `Published ${formatDateTime(published)} · received ${formatDateTime(time)}`
            : `Received ${formatDateTime(time)}`,
          "data-age": true,
          "data-testid": "feed-item-age",
        }, formatAge(time)),
      ),
    ),
    h("div", { class: "feed-item__score" },
      h("span", { class: `badge badge--${sentiment}`, "data-testid": "feed-item-sentiment" },
        SENTIMENT_LABELS[sentiment]),
      h("span", { class: "feed-item__number", "data-testid": "feed-item-score",
        title: `Score ${item.score} · confidence ${Math.round((item.confidence || 0) * 100)}%` },
      formatScore(item.score)),
    ),
  );
}

/** Only http(s) links become anchors. */
function safeUrl(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}
