// The last 24 hours as stacked bars (positive / neutral / negative), drawn as inline SVG at the
// container's real width so text stays crisp and readable on any screen. The same numbers are
// in a table (inside a <details>) for screen readers and anyone who wants them exact.

import { formatCount, formatHour, h, parseTime, svg } from "./format.js";

const HEIGHT = 220;
const PAD = { top: 12, right: 8, bottom: 26, left: 36 };
const STACK = ["negative", "neutral", "positive"]; // bottom to top
const COLUMNS = ["positive", "neutral", "negative"];

export class HourlyChart {
  /**
   * @param {HTMLElement} container  where the SVG goes
   * @param {HTMLElement} table  where the table of the same numbers goes
   */
  constructor(container, table) {
    this.container = container;
    this.table = table;
    this.hourly = null;
    this.width = 0;
    new ResizeObserver(() => {
      const width = Math.floor(this.container.clientWidth);
      if (width && width !== this.width) {
        this.width = width;
        this.render();
      }
    }).observe(container);
  }

  update(hourly) {
    this.hourly = Array.isArray(hourly) ? hourly : null;
    this.render();
    this.renderTable();
  }

  renderTable() {
    const hours = this.hourly || [];
    const cell = (tag, text, attributes = {}) => h(tag, attributes, text);
    this.table.replaceChildren(h("table", { class: "chart-table__table" },
      h("caption", {}, "Items per hour, last 24 hours"),
      h("thead", {}, h("tr", {},
        ["Hour", "Positive", "Neutral", "Negative", "Total"]
          .map((label) => cell("th", label, { scope: "col" })))),
      h("tbody", {}, hours.map((hour) => h("tr", {},
        cell("th", formatHour(parseTime(hour.hour)), { scope: "row" }),
        COLUMNS.map((sentiment) => cell("td", formatCount(hour[sentiment] || 0))),
        cell("td", formatCount(hour.total)))))));
  }

  render() {
    const width = this.width || Math.floor(this.container.clientWidth) || 600;
    const hours = this.hourly || [];
    const plotWidth = width - PAD.left - PAD.right;
    const plotHeight = HEIGHT - PAD.top - PAD.bottom;
    const peak = Math.max(0, ...hours.map((hour) => hour.total));
    const ticks = niceTicks(peak);
    const top = ticks[ticks.length - 1] || 1;
    const y = (value) => PAD.top + plotHeight - (value / top) * plotHeight;
    const slot = hours.length ? plotWidth / hours.length : plotWidth;
    const barWidth = Math.max(2, Math.min(28, slot * 0.7));

    const chart = svg("svg", {
      class: "chart__svg", width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`,
      role: "img", "aria-label": describe(hours, peak),
    });
    for (const tick of ticks) {
      chart.append(
        svg("line", { class: "chart__grid", x1: PAD.left, x2: width - PAD.right,
          y1: y(tick), y2: y(tick) }),
        svg("text", { class: "chart__axis chart__axis--y", x: PAD.left - 8, y: y(tick) },
          formatCount(tick)),
      );
    }
    const labelEvery = slot >= 24 ? 3 : slot >= 9 ? 6 : 12;
    hours.forEach((hour, index) => {
      const start = parseTime(hour.hour);
      const x = PAD.left + index * slot + (slot - barWidth) / 2;
      const group = svg("g",
        { class: "chart__bar", "data-testid": "chart-bar", dataset: { total: hour.total } },
        svg("title", {}, `${formatHour(start)}: ${hour.total} items (${hour.positive} positive, `
          + `${hour.neutral} neutral, ${hour.negative} negative)`),
        // A full-height hit area so thin bars still show their tooltip.
        svg("rect", { class: "chart__hit", x: PAD.left + index * slot, y: PAD.top,
          width: slot, height: plotHeight }));
      let base = 0;
      STACK.forEach((sentiment) => {
        const value = hour[sentiment] || 0;
        if (!value) return;
        const y0 = y(base);
        const y1 = y(base + value);
        group.append(svg("rect", {
          class: `chart__segment chart__segment--${sentiment}`,
          x, y: y1, width: barWidth, height: Math.max(1, y0 - y1),
        }));
        base += value;
      });
      chart.append(group);
      const fromEnd = hours.length - 1 - index;
      if (fromEnd % labelEvery === 0) {
        chart.append(svg("text",
          { class: "chart__axis chart__axis--x", x: x + barWidth / 2, y: HEIGHT - 8 },
          fromEnd === 0 ? "now" : formatHour(start)));
      }
    });
    chart.append(svg("line", { class: "chart__baseline", x1: PAD.left, x2: width - PAD.right,
      y1: y(0), y2: y(0) }));
    this.container.replaceChildren(chart);
  }
}

/** 0 and three or four round steps up to at least ``peak``. */
function niceTicks(peak) {
  if (peak <= 0) return [0, 1];
  const rough = peak / 3;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough);
  const whole = Math.max(1, Math.round(step));
  const ticks = [];
  for (let value = 0; value < peak + whole; value += whole) {
    ticks.push(value);
    if (value >= peak) break;
  }
  return ticks;
}

function describe(hours, peak) {
  if (!hours.length) return "No hourly data yet";
  const total = hours.reduce((sum, hour) => sum + hour.total, 0);
  const busiest = hours.reduce((best, hour) => (hour.total > best.total ? hour : best), hours[0]);
  return `${formatCount(total)} items over ${hours.length} hours; busiest hour `
    + `${formatHour(parseTime(busiest.hour))} with ${formatCount(peak)}`;
}
