// The live feed: newest first, one entry per item_id, at most ``limit`` entries.
//
// It can be paused (WCAG 2.2.2: moving content): live items are then held and counted, and
// shown when it resumes. Screen readers hear a short polite summary ("5 new items") at most
// once every few seconds rather than every headline (the list itself is aria-live=off).

import {
  focusFirst, formatAge, formatDateTime, formatDayTime, formatScore, h, holdsFocus, parseTime,
} from "./format.js";

const SENTIMENT_LABELS = { positive: "Positive", neutral: "Neutral", negative: "Negative" };
// At most one summary per this long: a busy feed is one sentence every few seconds, not noise.
const ANNOUNCE_EVERY_MS = 5_000;

/** Items sort by when they were stored (then id), like the stream's positions. */
function newerFirst(a, b) {
  return b.time - a.time || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

const plural = (count, word) => `${count} ${word}${count === 1 ? "" : "s"}`;

export class Feed {
  /**
   * @param {object} options
   * @param {HTMLElement} options.list  the <ol> of entries
   * @param {HTMLElement} options.empty  shown while there is nothing
   * @param {HTMLElement} options.count  "50 latest"
   * @param {HTMLElement} options.announcer  a polite status region (visually hidden)
   * @param {HTMLButtonElement} options.pause  the pause / resume button
   * @param {HTMLElement} options.heading  where focus goes when the focused entry is gone
   * @param {number} [options.limit]
   */
  constructor({ list, empty, count, announcer, pause, heading, limit = 50 }) {
    Object.assign(this, { list, empty, count, announcer, pause, heading, limit });
    this.entries = []; // [{id, time, element}] newest first
    this.byId = new Map();
    this.filter = null;
    this.paused = false;
    this.held = new Map(); // item_id -> item, while paused
    this.unannounced = 0;
    this.announceTimer = null;
    pause.addEventListener("click", () => this.setPaused(!this.paused));
    this.renderPause();
  }

  /** Only keep items naming one of ``tickers`` (null: everything). Clears the feed. */
  reset(tickers = null) {
    const hadFocus = holdsFocus(this.list);
    this.filter = tickers ? new Set(tickers) : null;
    this.entries = [];
    this.byId.clear();
    this.held.clear();
    this.unannounced = 0;
    this.list.replaceChildren();
    this.updateChrome();
    this.renderPause();
    if (hadFocus) focusFirst(this.heading);
  }

  /**
   * Add items (any order); duplicates and out-of-view items are ignored. ``live`` items came
   * from the stream: highlighted, summarised for screen readers, and held while paused.
   */
  add(items, { live = false } = {}) {
    const wanted = items.filter((item) => item && item.item_id && !this.byId.has(item.item_id)
      && (!this.filter || item.tickers.some((ticker) => this.filter.has(ticker))));
    if (live && this.paused) {
      const before = this.held.size;
      for (const item of wanted) this.held.set(item.item_id, item);
      if (this.held.size !== before) {
        this.renderPause();
        this.scheduleAnnouncement();
      }
      return;
    }
    const added = this.insert(wanted, live);
    if (live && added) {
      this.unannounced += added;
      this.scheduleAnnouncement();
    }
  }

  /** Insert ``items``; returns how many are now shown. Focus on a dropped entry moves on. */
  insert(items, highlight) {
    let added = 0;
    for (const item of items) {
      if (this.byId.has(item.item_id)) continue;
      const time = parseTime(item.ingested_at);
      const entry = { id: item.item_id, time: Number.isFinite(time) ? time : Date.now() };
      const index = this.insertionIndex(entry);
      if (index >= this.limit) continue; // older than everything kept
      entry.element = renderItem(item, entry.time, highlight);
      const next = this.entries[index];
      this.list.insertBefore(entry.element, next ? next.element : null);
      this.entries.splice(index, 0, entry);
      this.byId.set(entry.id, entry);
      added += 1;
    }
    let lostFocus = false;
    while (this.entries.length > this.limit) {
      const dropped = this.entries.pop();
      lostFocus ||= holdsFocus(dropped.element);
      dropped.element.remove();
      this.byId.delete(dropped.id);
    }
    if (lostFocus) {
      // The focused (oldest) entry fell off the end: its successor there takes the focus.
      const last = this.entries[this.entries.length - 1];
      focusFirst(last && last.element.querySelector("a"), this.heading);
    }
    if (added) this.updateChrome();
    return added;
  }

  setPaused(paused) {
    this.paused = paused;
    if (!paused && this.held.size) {
      const held = [...this.held.values()];
      this.held.clear();
      this.insert(held, true);
    }
    this.renderPause();
  }

  renderPause() {
    const waiting = this.held.size ? ` (${this.held.size} new)` : "";
    const text = this.paused ? `Resume feed${waiting}` : "Pause feed";
    if (this.pause.textContent !== text) this.pause.textContent = text;
    this.pause.closest("section")?.classList.toggle("panel--paused", this.paused);
  }

  /** One polite summary per ANNOUNCE_EVERY_MS, counting everything since the last one. */
  scheduleAnnouncement() {
    if (this.announceTimer) return;
    this.announceTimer = setTimeout(() => {
      this.announceTimer = null;
      let message = "";
      if (this.paused && this.held.size) {
        message = `${plural(this.held.size, "new item")} waiting; the feed is paused`;
      } else if (this.unannounced) {
        message = plural(this.unannounced, "new item");
      }
      this.unannounced = 0;
      if (message) this.announcer.textContent = message;
    }, ANNOUNCE_EVERY_MS);
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
  const confidence = Math.round((Number(item.confidence) || 0) * 100);
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
        Number.isFinite(published)
          ? h("span", { class: "feed-item__published", "data-testid": "feed-item-published" },
            `published ${formatDayTime(published)}`)
          : null,
        h("time", {
          class: "feed-item__age",
          datetime: new Date(time).toISOString(),
          title: `Received ${formatDateTime(time)}`,
          "data-age": true,
          "data-testid": "feed-item-age",
        }, formatAge(time)),
      ),
    ),
    h("div", { class: "feed-item__score" },
      h("span", { class: `badge badge--${sentiment}`, "data-testid": "feed-item-sentiment" },
        SENTIMENT_LABELS[sentiment]),
      h("span", { class: "feed-item__number", "data-testid": "feed-item-score" },
        formatScore(item.score)),
      h("span", { class: "feed-item__confidence", "data-testid": "feed-item-confidence" },
        `${confidence}% confidence`),
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
