// Charts with Chart.js (served from /static/vendor/chart.umd.js, built by `make setup`).
// Every chart sits in a <figure> with an aria-label on its canvas and a text summary.

import { h } from "./ui.js";

export const PALETTE = {
  accent: "#3ecf8e",
  blue: "#8ab4ff",
  amber: "#f2c14e",
  pink: "#ff8fb1",
  violet: "#c3a6ff",
  grid: "rgba(233, 241, 236, 0.12)",
  text: "#c9d8cf",
};

/** Chart.js, or null when the vendor file was not built (the text summaries still show). */
export function chartLib() {
  const Chart = window.Chart;
  if (!Chart) return null;
  if (!Chart.__greenroomThemed) {
    Chart.defaults.color = PALETTE.text;
    Chart.defaults.borderColor = PALETTE.grid;
    Chart.defaults.font.family = "system-ui, sans-serif";
    Chart.defaults.font.size = 13;
    Chart.defaults.maintainAspectRatio = false;
    Chart.__greenroomThemed = true;
  }
  return Chart;
}

/**
 * A figure holding a canvas for one chart: returns {figure, canvas}. The summary is text a
 * screen reader (and anyone) can read instead of the picture.
 */
export function chartFigure({ id, label, summary, height = "16rem" }) {
  const canvas = h("canvas", { id, role: "img", "aria-label": label });
  const figure = h("figure", { class: "chart" },
    h("div", { class: "chart-box", style: `height:${height}` }, canvas),
    h("figcaption", { class: "chart-summary" }, summary));
  return { figure, canvas };
}

/** Draws a chart on the canvas once it is in the document; returns the Chart or null. */
export function draw(canvas, config, owned) {
  const Chart = chartLib();
  if (!Chart) {
    canvas.replaceWith(h("p", { class: "muted" }, "Charts are unavailable (run `make setup` to build them)."));
    return null;
  }
  const chart = new Chart(canvas, config);
  if (owned) owned.push(chart);
  return chart;
}

/** Destroys the charts a page made (called when the page is left). */
export function destroyAll(owned) {
  while (owned.length) owned.pop().destroy();
}

export function lineDataset(label, data, color, extra = {}) {
  return {
    label,
    data,
    borderColor: color,
    backgroundColor: color,
    pointRadius: data.length > 60 ? 0 : 3,
    borderWidth: 2,
    tension: 0.25,
    spanGaps: false,
    ...extra,
  };
}
