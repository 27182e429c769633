// A small line chart on a <canvas>: one series per agent, x = turn number, y = value (TTFT in ms).
// Drawn by hand (no chart library): axes with round ticks, a line and dots per series, a legend.

const COLORS = ["#2f6fdf", "#d9480f", "#2b8a3e", "#9c36b5", "#e67700", "#0b7285", "#c2255c", "#5c940d"];

export function seriesColor(i) { return COLORS[i % COLORS.length]; }

function niceStep(max, ticks) {
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

export class LineChart {
  constructor(canvas, { yLabel = "", xLabel = "turn", format = (v) => String(v) } = {}) {
    this.canvas = canvas;
    this.yLabel = yLabel;
    this.xLabel = xLabel;
    this.format = format;
    this.series = new Map();  // name -> {color, points: [{x, y}]}
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  // Adds point (x, y) to series `name`; `color` (CSS) is used when the series is new.
  add(name, x, y, color) {
    if (!this.series.has(name)) this.series.set(name, { color: color || seriesColor(this.series.size), points: [] });
    this.series.get(name).points.push({ x, y });
    this.draw();
  }

  clear() { this.series.clear(); this.draw(); }

  pointCount() {
    let n = 0;
    for (const s of this.series.values()) n += s.points.length;
    return n;
  }

  draw() {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth, h = c.clientHeight;
    if (!w || !h) return;
    c.width = Math.round(w * dpr);
    c.height = Math.round(h * dpr);
    c.dataset.points = String(this.pointCount());
    const g = c.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const style = getComputedStyle(c);
    const fg = style.color || "#222";
    g.font = "12px system-ui, sans-serif";
    g.fillStyle = fg;
    g.strokeStyle = fg;

    const all = [...this.series.values()].flatMap((s) => s.points);
    const left = 64, right = 12, top = 28, bottom = 36;
    const pw = w - left - right, ph = h - top - bottom;
    if (!all.length) {
      g.fillText("no turns yet", left + 8, top + ph / 2);
      return;
    }
    const xMax = Math.max(2, ...all.map((p) => p.x));
    const yStep = niceStep(Math.max(1, ...all.map((p) => p.y)) * 1.1, 5);
    const yMax = yStep * Math.ceil((Math.max(1, ...all.map((p) => p.y)) * 1.05) / yStep);
    const px = (x) => left + ((x - 1) / (xMax - 1)) * pw;
    const py = (y) => top + ph - (y / yMax) * ph;

    // Grid and axes.
    g.globalAlpha = 0.15;
    for (let y = 0; y <= yMax + 1e-9; y += yStep) {
      g.beginPath(); g.moveTo(left, py(y)); g.lineTo(left + pw, py(y)); g.stroke();
    }
    g.globalAlpha = 1;
    g.textAlign = "right"; g.textBaseline = "middle";
    for (let y = 0; y <= yMax + 1e-9; y += yStep) g.fillText(this.format(y), left - 6, py(y));
    g.textAlign = "center"; g.textBaseline = "top";
    const xStep = Math.max(1, Math.ceil((xMax - 1) / 10));
    for (let x = 1; x <= xMax; x += xStep) g.fillText(String(x), px(x), top + ph + 6);
    g.fillText(this.xLabel, left + pw / 2, top + ph + 20);
    g.beginPath(); g.moveTo(left, top); g.lineTo(left, top + ph); g.lineTo(left + pw, top + ph); g.stroke();
    g.textAlign = "left"; g.textBaseline = "top";
    g.fillText(this.yLabel, 4, 4);

    // Series and legend.
    let lx = left + 90;
    for (const [name, s] of this.series) {
      g.strokeStyle = g.fillStyle = s.color;
      g.lineWidth = 2;
      g.beginPath();
      s.points.forEach((p, i) => (i ? g.lineTo(px(p.x), py(p.y)) : g.moveTo(px(p.x), py(p.y))));
      g.stroke();
      for (const p of s.points) { g.beginPath(); g.arc(px(p.x), py(p.y), 3.5, 0, 2 * Math.PI); g.fill(); }
      g.fillRect(lx, 8, 10, 10);
      g.fillStyle = fg;
      g.fillText(name, lx + 14, 6);
      lx += 24 + g.measureText(name).width;
    }
    g.lineWidth = 1;
  }
}
