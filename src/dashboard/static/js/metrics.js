// Key figure cards, the sentiment distribution and the per-ticker breakdown.

import { formatCount, formatScore, formatShare, h, parseTime, svg } from "./format.js";

const SENTIMENTS = ["positive", "neutral", "negative"];
const MAX_TICKER_ROWS = 10;

export class MetricsView {
  constructor(root) {
    this.root = root;
    this.find = (testid) => root.querySelector(`[data-testid="${testid}"]`);
    this.current = null;
  }

  /** Forget the shown metrics (a new view): placeholders keep the layout still. */
  reset() {
    this.current = null;
    for (const id of ["metric-total", "metric-positive", "metric-neutral", "metric-negative",
      "metric-last-hour", "metric-average-score", "metric-positive-share",
      "metric-neutral-share", "metric-negative-share"]) {
      const element = this.find(id);
      element.textContent = "—";
      delete element.dataset.value;
    }
    this.find("score-gauge").style.removeProperty("--score");
    this.find("distribution").replaceChildren(renderDonut(null));
    this.find("tickers").replaceChildren();
    this.find("tickers-empty").hidden = false;
  }

  /** Show ``metrics`` unless what is shown is newer (a late REST answer after an event). */
  update(metrics) {
    if (!metrics) return false;
    const generated = parseTime(metrics.generated_at);
    if (this.current && generated < this.current.generated) return false;
    this.current = { generated, metrics };
    const { total } = metrics;
    // With a ticker filter the API counts mentions: an item naming two watched tickers counts
    // twice.
    const unit = metrics.tickers ? "mentions" : "items";
    this.find("metric-total-label").textContent = unit === "items" ? "Items" : "Mentions";
    for (const element of this.root.querySelectorAll(".unit")) element.textContent = unit;
    setValue(this.find("metric-total"), total, formatCount(total));
    for (const sentiment of SENTIMENTS) {
      const count = metrics[sentiment];
      setValue(this.find(`metric-${sentiment}`), count, formatCount(count));
      setValue(this.find(`metric-${sentiment}-share`), metrics[sentiment],
        formatShare(metrics[sentiment], total));
    }
    setValue(this.find("metric-last-hour"), metrics.last_hour, formatCount(metrics.last_hour));
    setValue(this.find("metric-average-score"), metrics.average_score,
      formatScore(metrics.average_score));
    const score = Math.max(-1, Math.min(1, metrics.average_score || 0));
    this.find("score-gauge").style.setProperty("--score", String(score));
    this.find("distribution").replaceChildren(renderDonut(metrics));
    this.renderTickers(metrics.by_ticker || {}, metrics.tickers, metrics.others || 0);
    return true;
  }

  /** The most mentioned tickers (a watch list: all of its own), then one row summing the
   * mentions of every other ticker: the API names the top 50 and sums the rest in ``others``. */
  renderTickers(byTicker, watched, others) {
    const ranked = Object.entries(byTicker)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const rows = ranked.slice(0, watched ? undefined : MAX_TICKER_ROWS);
    const rest = others + ranked.slice(rows.length).reduce((sum, [, count]) => sum + count, 0);
    const max = Math.max(1, ...rows.map(([, count]) => count));
    this.find("tickers").replaceChildren(
      ...rows.map(([ticker, count]) => {
        const fill = h("span", { class: "ticker-row__fill" });
        // Through CSSOM: the Content-Security-Policy refuses inline style attributes.
        fill.style.width = `${(count / max) * 100}%`;
        return h("li", { class: "ticker-row", "data-testid": "ticker-row", dataset: { ticker } },
          h("span", { class: "ticker-row__symbol" }, ticker),
          h("span", { class: "ticker-row__bar", "aria-hidden": "true" }, fill),
          h("span", { class: "ticker-row__count", "data-testid": "ticker-count" },
            formatCount(count)),
        );
      }),
      ...(rest > 0 && !watched ? [othersRow(rest)] : []),
    );
    this.find("tickers-empty").hidden = rows.length > 0;
  }
}

function othersRow(count) {
  return h("li", { class: "ticker-row ticker-row--others", "data-testid": "ticker-others" },
    h("span", { class: "ticker-row__symbol" }, "Others"),
    h("span", { class: "ticker-row__bar", "aria-hidden": "true" }),
    h("span", { class: "ticker-row__count", "data-testid": "ticker-others-count" },
      formatCount(count)),
  );
}

function setValue(element, raw, text) {
  element.dataset.value = String(raw);
  if (element.textContent !== text) element.textContent = text;
}

/** A donut of the sentiment split with the total in the middle, and its legend. */
function renderDonut(metrics) {
  const total = metrics ? metrics.total : 0;
  const radius = 42;
  const circumference = 2 * Math.PI * radius;
  const ring = svg("svg", { class: "donut", viewBox: "0 0 120 120", role: "img",
    "aria-label": metrics
      ? `Sentiment split: ${SENTIMENTS.map((s) => `${formatShare(metrics[s], total)} ${s}`)
        .join(", ")}`
      : "No data yet" },
  svg("circle", { class: "donut__track", cx: 60, cy: 60, r: radius }));
  let offset = 0;
  if (total > 0) {
    for (const sentiment of SENTIMENTS) {
      const length = (metrics[sentiment] / total) * circumference;
      if (length <= 0) continue;
      // A hairline gap between segments, unless one segment is the whole ring.
      const gap = length < circumference ? Math.min(1.5, length / 2) : 0;
      ring.append(svg("circle", {
        class: `donut__segment donut__segment--${sentiment}`, cx: 60, cy: 60, r: radius,
        "stroke-dasharray": `${length - gap} ${circumference - length + gap}`,
        "stroke-dashoffset": String(-offset),
        transform: "rotate(-90 60 60)",
      }));
      offset += length;
    }
  }
  ring.append(
    svg("text", { class: "donut__total", x: 60, y: 60 }, metrics ? formatCount(total) : "—"),
    svg("text", { class: "donut__caption", x: 60, y: 78 },
      metrics && metrics.tickers ? "mentions" : "items"),
  );
  const legend = h("ul", { class: "distribution__legend" },
    SENTIMENTS.map((sentiment) =>
      h("li", { class: `distribution__row distribution__row--${sentiment}` },
        h("span", { class: "swatch", "aria-hidden": "true" }),
        h("span", { class: "distribution__name" }, sentiment[0].toUpperCase() + sentiment.slice(1)),
        h("span", { class: "distribution__count", "data-testid": `distribution-${sentiment}` },
          metrics ? formatCount(metrics[sentiment]) : "—"),
        h("span", { class: "distribution__share" },
          metrics ? formatShare(metrics[sentiment], total) : ""),
      )));
  const fragment = document.createDocumentFragment();
  fragment.append(ring, legend);
  return fragment;
}
