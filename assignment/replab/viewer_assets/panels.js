// The side panels: legend, pinned item, overlaps, search results, the epoch label.

function swatch(c) {
  const s = document.createElement("span");
  s.className = "sw"; s.style.background = D.colors[c];
  return s;
}
function span(cls, text) { const s = document.createElement("span"); s.className = cls; s.textContent = text; return s; }

// A canvas showing item i's picture (when the page has pictures), ``px`` CSS pixels square.
function picture(i, px, cls = "thumb") {
  if (!D.atlas || !D.tiles || D.tiles[i] < 0) return null;
  const { tile, cols } = D.atlas, t = D.tiles[i], c = document.createElement("canvas");
  c.width = c.height = tile; c.className = cls; c.style.width = c.style.height = px + "px";
  if (D.atlasImage && D.atlasImage.complete) {
    c.getContext("2d").drawImage(D.atlasImage, (t % cols) * tile, Math.floor(t / cols) * tile, tile, tile, 0, 0, tile, tile);
  }
  return c;
}

function itemRow(i, extra) {
  const row = document.createElement("div");
  row.className = "row"; row.dataset.index = i;
  const pic = picture(i, 24);
  row.append(...[pic, swatch(D.labels[i]), span("t", D.titles[i]), ...extra].filter(Boolean));
  row.title = `${D.titles[i]} — ${D.classes[D.labels[i]]}`;
  row.onclick = () => pin(i, true);
  return row;
}

function renderLegend() {
  const legend = $("legend"), counts = new Int32Array(D.classes.length);
  D.labels.forEach(c => counts[c]++);
  legend.classList.toggle("two", D.classes.length > 8);  // two columns only when the list gets long
  legend.replaceChildren(...D.classes.map((name, c) => {
    const row = document.createElement("div");
    row.className = "row" + (look.hidden.has(c) ? " off" : ""); row.dataset.cls = c;
    row.append(swatch(c), span("t", name), span("n", counts[c].toLocaleString()));
    row.onclick = () => { look.hidden.has(c) ? look.hidden.delete(c) : look.hidden.add(c); afterFilter(); };
    row.ondblclick = () => {  // only this class (again: all of them)
      const solo = look.hidden.size === D.classes.length - 1 && !look.hidden.has(c);
      look.hidden = new Set(solo ? [] : D.classes.map((_, j) => j).filter(j => j !== c));
      afterFilter();
    };
    return row;
  }));
  const split = document.createElement("div");
  split.className = "note";
  if (D.test && S.colorBy === "split") {
    split.append(swatch(0), " train   ", swatch(0), " test. ");
    split.children[0].style.background = SPLIT_COLORS[0]; split.children[1].style.background = SPLIT_COLORS[1];
  } else if (D.test) split.textContent = "● train   ○ test. ";
  split.append("Click a class to hide it, double-click to show it alone.");
  legend.append(split);
  $("legendNote").textContent = `${D.classes.length} · ${D.N.toLocaleString()} items`;
}

function afterFilter() { renderLegend(); restyle(); renderOverlaps(); }

function pin(i, jump = false) {
  S.pinned = i;
  nbCache.clear();
  $("results").replaceChildren();
  if (i >= 0 && jump) {  // bring it to the middle of the main view, keeping rotation and zoom
    const v = views[1], [x, y] = position(v, i, S.shown);
    S.cam.panX -= x - v.W / 2; S.cam.panY -= y - v.H / 2;
    if (!look.visible[i]) { look.hidden.delete(D.labels[i]); if (S.show !== "all") { S.show = "all"; $("show").value = "all"; } afterFilter(); }
  }
  renderPinned();
  S.dirty = true;
}

function renderPinned() {
  const box = $("pinned"), p = S.pinned;
  if (p < 0 || !D) { box.hidden = true; box.replaceChildren(); return; }
  const e = S.epoch, c = D.labels[p];
  const close = document.createElement("button");
  close.className = "close"; close.textContent = "×"; close.title = "unpin (Esc)"; close.onclick = () => pin(-1);
  const h = document.createElement("h2"); h.textContent = D.titles[p];
  const meta = document.createElement("div"); meta.className = "meta";
  meta.append(swatch(c), D.classes[c], D.test ? ` · ${D.test[p] ? "test" : "train"}` : "", ` · row ${p + 1}`);
  const parts = [close, h, meta];
  const pic = picture(p, 128, "picture");
  if (pic) parts.push(pic);
  const snip = document.createElement("p"); snip.className = "snippet"; snip.textContent = D.snippets[p];
  if (D.snippets[p]) parts.push(snip);

  // Its neighbourhood over training: how many of its k neighbours share its class, per epoch.
  const h3a = document.createElement("h3");
  h3a.textContent = `Neighbours of its own class, epoch 0 → ${D.E - 1}`;
  const bars = document.createElement("div"); bars.id = "purity";
  const axis = document.createElement("div"); axis.id = "purityAxis";
  for (let q = 0; q < D.E; q++) {
    const nb = neighbours(p, q), same = Array.from(nb).filter(j => D.labels[j] === c).length;
    const bar = document.createElement("div");
    bar.style.height = `${Math.max(4, 100 * same / Math.max(1, nb.length))}%`;
    bar.dataset.n = same;
    bar.className = q === e ? "now" : "";
    bar.title = `epoch ${q}: ${same} of ${nb.length}`;
    bar.onclick = () => setEpoch(q);
    bars.append(bar);
    axis.append(span("", q === 0 || q === D.E - 1 || q === e ? String(q) : ""));
  }
  const nb = neighbours(p, e), same = Array.from(nb).filter(j => D.labels[j] === c).length;
  const h3 = document.createElement("h3");
  h3.textContent = nb.length ? `${nb.length} nearest neighbours at epoch ${e} (full ${D.dim || ""}-d space): ${same} share its class`
    : "Nearest neighbours: finding them…";
  const list = document.createElement("ol"); list.id = "neighbours";
  for (const j of nb) {
    const other = D.labels[j] !== c, cls = span("c" + (other ? " other" : ""), D.classes[D.labels[j]]);
    const li = document.createElement("li");
    li.append(itemRow(j, [cls]));
    list.append(li);
  }
  const trail = document.createElement("label");
  trail.className = "note";
  const check = document.createElement("input"); check.type = "checkbox"; check.checked = S.trail;
  check.onchange = () => { S.trail = check.checked; S.dirty = true; };
  trail.append(check, " show its trail through the epochs (0 → ", String(D.E - 1), ")");
  parts.push(h3a, bars, axis, trail, h3, list);
  box.replaceChildren(...parts);
  box.hidden = false;
}

function renderOverlaps() {
  if (renderOverlaps.epoch !== S.epoch) S.listed = MAX_LISTED;
  renderOverlaps.epoch = S.epoch;
  const e = S.epoch, all = D ? overlapsAt(e) : null, list = $("overlaps"), pairs = $("pairs");
  document.querySelectorAll(".kk").forEach(el => { el.textContent = `k = ${D ? D.K : ""}`; });
  if (!all) {
    list.replaceChildren(); pairs.replaceChildren();
    if (D && D.K < 1) { $("overlapsNote").textContent = "(needs at least two items)"; return; }
    $("overlapsNote").textContent = D && D.emb ? (S.playing ? "(when the epochs stop)" : "finding neighbours…") : "";
    return;
  }
  const shown = all.filter(o => look.visible[o.i]);
  // Which class sits among which, most common first: the picture of the overlap at a glance.
  const byPair = new Map();
  for (const o of shown) { const key = `${D.labels[o.i]}>${o.among}`; byPair.set(key, (byPair.get(key) || 0) + 1); }
  if (S.pair && !byPair.has(S.pair)) S.pair = null;
  const chips = [...byPair].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([key, n]) => {
    const [a, b] = key.split(">").map(Number), chip = document.createElement("span");
    chip.className = "pair" + (S.pair === key ? " on" : "");
    chip.textContent = `${D.classes[a]} among ${D.classes[b]}: ${n}`;
    chip.title = "show only these (click again for all)";
    chip.onclick = () => { S.pair = S.pair === key ? null : key; renderOverlaps(); };
    return chip;
  });
  pairs.replaceChildren(...chips);
  const rows = S.pair ? shown.filter(o => `${D.labels[o.i]}>${o.among}` === S.pair) : shown;
  const items = rows.slice(0, S.listed).map(o => {
    const li = document.createElement("li");
    const sub = document.createElement("span");
    sub.className = "sub";
    sub.append("among", swatch(o.among), span("c other", D.classes[o.among]), span("n", `${o.n} of ${D.K}`));
    li.append(itemRow(o.i, [sub]));
    return li;
  });
  if (rows.length > S.listed) {
    const more = document.createElement("li"), button = document.createElement("button");
    more.className = "more";
    button.textContent = `show ${Math.min(MAX_LISTED, rows.length - S.listed)} more of ${(rows.length - S.listed).toLocaleString()}`;
    button.onclick = () => { S.listed += MAX_LISTED; renderOverlaps(); };
    more.append(button);
    items.push(more);
  }
  list.replaceChildren(...items);
  $("overlapsNote").textContent = `${shown.length.toLocaleString()} of ${look.visible.reduce((s, v) => s + v, 0).toLocaleString()} at epoch ${e}`;
}

function renderResults() {
  const q = S.query.trim().toLowerCase(), box = $("results");
  if (!q) { box.replaceChildren(); return; }
  const hits = [];
  for (let i = 0; i < D.N && hits.length < 50; i++) if (D.titles[i].toLowerCase().includes(q)) hits.push(i);
  const total = look.matches ? look.matches.reduce((s, v) => s + v, 0) : 0;
  const rows = hits.map(i => itemRow(i, [span("c", D.classes[D.labels[i]])]));
  if (!hits.length) rows.push(span("more", "no title matches"));
  else if (total > hits.length) rows.push(span("more", `${total - hits.length} more; type more of the title`));
  box.replaceChildren(...rows);
}

function updateEpochLabel() {
  const e = Math.round(S.shown);
  $("epochLabel").textContent = `epoch ${e} / ${D.E - 1}` + (e === 0 ? " · untrained" : "");
  $("rightLabel").textContent = `epoch ${e}` + (e === 0 ? " (untrained)" : "");
}

function setEpoch(e) {
  S.epoch = Math.max(0, Math.min(D.E - 1, e));
  $("epoch").value = S.epoch;
  renderPinned(); renderOverlaps();
}
