"""An offline stand-in for Mantis: one self-contained HTML file to watch the embeddings move over epochs.

No network at all (inline CSS/JS, data as inline JSON). Python computes an aligned 2-D PCA of every epoch
(see :func:`replab.plots.project_epochs`) and scales it into a fixed box; the page draws it on a canvas
with an epoch slider, play button, clickable class legend and a tooltip per point.
"""
from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import orjson

from .arrays import as_snapshots
from .mantis import read_mantis_csv
from .plots import fixed_box, project_epochs

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#393b79", "#e7ba52", "#637939", "#ad494a", "#7b4173", "#3182bd", "#31a354", "#756bb1"]

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
 body { margin: 0; font: 14px system-ui, sans-serif; color: #222; background: #fafafa; }
 header { display: flex; gap: 14px; align-items: center; padding: 10px 16px; background: #fff; border-bottom: 1px solid #ddd; flex-wrap: wrap; }
 h1 { font-size: 17px; margin: 0 12px 0 0; }
 #epoch { width: 320px; }
 #epochLabel { min-width: 120px; font-variant-numeric: tabular-nums; }
 button { font: inherit; padding: 3px 12px; cursor: pointer; }
 main { display: flex; height: calc(100vh - 56px); }
 #wrap { flex: 1; position: relative; min-width: 0; }
 canvas { width: 100%; height: 100%; display: block; }
 aside { width: 210px; padding: 12px; overflow-y: auto; background: #fff; border-left: 1px solid #ddd; }
 .item { display: flex; align-items: center; gap: 8px; padding: 3px 4px; cursor: pointer; border-radius: 4px; user-select: none; }
 .item:hover { background: #f0f0f0; }
 .item.off { opacity: 0.35; text-decoration: line-through; }
 .swatch { width: 12px; height: 12px; border-radius: 50%; flex: none; }
 .count { margin-left: auto; color: #888; font-size: 12px; }
 .note { color: #666; font-size: 12px; margin-top: 14px; line-height: 1.5; }
 #tip { position: fixed; pointer-events: none; display: none; max-width: 360px; background: #fff; border: 1px solid #bbb;
        border-radius: 6px; padding: 8px 10px; box-shadow: 0 2px 8px rgba(0,0,0,.15); font-size: 13px; }
 #tip b { display: block; margin-bottom: 2px; }
 #tip .meta { color: #666; margin-bottom: 4px; }
</style></head>
<body>
<header>
 <h1>__TITLE__</h1>
 <button id="play">&#9654; play</button>
 <input id="epoch" type="range" min="0" max="0" step="1" value="0" aria-label="epoch">
 <span id="epochLabel"></span>
</header>
<main><div id="wrap"><canvas id="plot"></canvas></div>
<aside><div id="legend"></div>
<div class="note">Click a class to hide or show it.<br>&#9679; train &nbsp; &#9675; test<br>
2-D PCA of each epoch, aligned to the previous one and scaled to fill the box.</div></aside></main>
<div id="tip"></div>
<script type="application/json" id="data">__DATA__</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const N = D.titles.length, E = D.coords.length;
const canvas = document.getElementById("plot"), ctx = canvas.getContext("2d");
const slider = document.getElementById("epoch"), label = document.getElementById("epochLabel");
const tip = document.getElementById("tip"), playButton = document.getElementById("play");
const hidden = new Set();
let shown = 0, target = 0, playing = false, hover = -1, last = 0, W = 1, H = 1, HALF = 1;
slider.max = E - 1;

// Legend: one clickable row per class.
const legend = document.getElementById("legend");
const counts = D.classes.map(() => 0);
D.labels.forEach(c => counts[c]++);
D.classes.forEach((name, c) => {
  const row = document.createElement("div");
  row.className = "item";
  const swatch = document.createElement("span");
  swatch.className = "swatch"; swatch.style.background = D.colors[c];
  const text = document.createElement("span"); text.textContent = name;
  const count = document.createElement("span"); count.className = "count"; count.textContent = counts[c];
  row.append(swatch, text, count);
  row.onclick = () => { hidden.has(c) ? hidden.delete(c) : hidden.add(c); row.classList.toggle("off"); draw(); };
  legend.append(row);
});

function size() {
  const r = canvas.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
  W = r.width; H = r.height; HALF = Math.max(Math.min(W, H) / 2 - 16, 10);
  canvas.width = W * dpr; canvas.height = H * dpr;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  draw();
}
// Screen position of point i at a (possibly fractional, while playing) epoch.
function pos(i, t) {
  const a = Math.floor(t), b = Math.min(a + 1, E - 1), f = t - a, A = D.coords[a], B = D.coords[b];
  const x = A[2 * i] + f * (B[2 * i] - A[2 * i]), y = A[2 * i + 1] + f * (B[2 * i + 1] - A[2 * i + 1]);
  return [W / 2 + x * HALF, H / 2 - y * HALF];
}
function draw() {
  ctx.clearRect(0, 0, W, H);
  ctx.lineWidth = 1.3;
  for (let i = 0; i < N; i++) {
    const c = D.labels[i];
    if (hidden.has(c)) continue;
    const [x, y] = pos(i, shown);
    ctx.beginPath(); ctx.arc(x, y, i === hover ? 6 : 3.2, 0, 2 * Math.PI);
    if (D.test && D.test[i]) { ctx.fillStyle = "#fff"; ctx.fill(); ctx.strokeStyle = D.colors[c]; ctx.stroke(); }
    else { ctx.fillStyle = D.colors[c]; ctx.globalAlpha = 0.75; ctx.fill(); ctx.globalAlpha = 1; }
    if (i === hover) { ctx.strokeStyle = "#000"; ctx.stroke(); }
  }
  label.textContent = "epoch " + Math.round(shown) + (Math.round(shown) === 0 ? " (untrained)" : "") + " / " + (E - 1);
}
// Move smoothly towards the target epoch; while playing, step the target along.
function frame(now) {
  const dt = Math.min(now - last, 100) / 1000; last = now;
  if (playing && Math.abs(shown - target) < 1e-3) {
    if (target >= E - 1) { playing = false; playButton.innerHTML = "&#9654; play"; }
    else { target += 1; slider.value = target; }
  }
  if (shown !== target) {
    const step = dt * 1.6;
    shown = Math.abs(target - shown) <= step ? target : shown + Math.sign(target - shown) * step;
    draw();
  }
  requestAnimationFrame(frame);
}
slider.oninput = () => { target = +slider.value; playing = false; playButton.innerHTML = "&#9654; play"; };
playButton.onclick = () => {
  playing = !playing;
  if (playing && target >= E - 1) { shown = target = 0; slider.value = 0; }
  playButton.innerHTML = playing ? "&#10074;&#10074; pause" : "&#9654; play";
};
canvas.onmousemove = ev => {
  const r = canvas.getBoundingClientRect(), mx = ev.clientX - r.left, my = ev.clientY - r.top;
  let best = -1, bestD = 64;  // within 8 px
  for (let i = 0; i < N; i++) {
    if (hidden.has(D.labels[i])) continue;
    const [x, y] = pos(i, shown), d = (x - mx) ** 2 + (y - my) ** 2;
    if (d < bestD) { bestD = d; best = i; }
  }
  if (best !== hover) { hover = best; draw(); }
  if (best < 0) { tip.style.display = "none"; return; }
  tip.replaceChildren();
  const t = document.createElement("b"); t.textContent = D.titles[best];
  const m = document.createElement("div"); m.className = "meta";
  m.textContent = D.classes[D.labels[best]] + (D.test ? (D.test[best] ? " \\u00b7 test" : " \\u00b7 train") : "");
  const s = document.createElement("div"); s.textContent = D.snippets[best];
  tip.append(t, m, s);
  tip.style.display = "block";
  tip.style.left = Math.min(ev.clientX + 14, window.innerWidth - tip.offsetWidth - 8) + "px";
  tip.style.top = Math.min(ev.clientY + 14, window.innerHeight - tip.offsetHeight - 8) + "px";
};
canvas.onmouseleave = () => { tip.style.display = "none"; hover = -1; draw(); };
document.onkeydown = ev => {
  if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
    target = Math.max(0, Math.min(E - 1, target + (ev.key === "ArrowRight" ? 1 : -1)));
    slider.value = target; ev.preventDefault();
  }
};
window.onresize = size;
size();
requestAnimationFrame(t => { last = t; frame(t); });
</script>
</body></html>
"""


def _inline_json(data) -> str:
    """JSON safe inside <script>: every '<' escaped, so no '</script>' or '<!--' can appear."""
    return orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY).replace(b"<", b"\\u003c").decode("utf-8")


def write_viewer_html(path, titles, labels, snippets, embeddings, splits=None, title: str = "Embeddings over epochs") -> Path:
    """Write the viewer for ``embeddings`` (E, N, D); ``splits`` ("train"/"test" per row) marks test rows as rings."""
    path = Path(path)
    embeddings = as_snapshots(embeddings)
    titles, labels, snippets = ([str(v) for v in values] for values in (titles, labels, snippets))
    coords, _ = project_epochs(embeddings, "pca")
    n = coords.shape[1]
    if not len(titles) == len(labels) == len(snippets) == n or (splits is not None and len(splits) != n):
        raise ValueError(f"{path.name}: titles, labels, snippets (and splits) need one entry per row ({n})")
    # One fixed box for all epochs; the rare far outlier is pinned to the edge.
    coords = np.clip(coords / fixed_box(coords), -1.0, 1.0).round(4)
    classes = sorted(set(labels))
    index = {c: i for i, c in enumerate(classes)}
    data = {
        "classes": classes,
        "colors": [PALETTE[i % len(PALETTE)] for i in range(len(classes))],
        "titles": titles,
        "labels": [index[c] for c in labels],
        "snippets": snippets,
        "test": None if splits is None else [int(str(s) == "test") for s in splits],
        "coords": coords.reshape(len(coords), -1),
    }
    head, tail = PAGE.split("__DATA__")  # the title goes into the head only, so no data text is ever re-substituted
    page = head.replace("__TITLE__", html.escape(title)) + _inline_json(data) + tail
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path


def write_viewer_for_csv(csv_path, html_path=None, title: str | None = None) -> Path:
    """The viewer for a Mantis CSV (validated on the way in), written next to it unless told otherwise."""
    csv_path = Path(csv_path)
    table = read_mantis_csv(csv_path)
    return write_viewer_html(html_path or csv_path.with_suffix(".html"), table.titles, table.categories,
                             table.snippets, table.embeddings, table.splits, title=title or csv_path.name)
