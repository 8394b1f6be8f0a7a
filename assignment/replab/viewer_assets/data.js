// The data on show: as Python embedded it, or read from a dropped CSV; its neighbours and overlaps.

function decodeIndices(b64, bytes) {
  const bin = atob(b64), u8 = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
  return bytes === 4 ? new Uint32Array(u8.buffer) : new Uint16Array(u8.buffer);
}

function xyOf(d3, n) {  // the x, y of 3-D coordinates: the 2-D view of a 3-D-only projection
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) { out[2 * i] = d3[3 * i]; out[2 * i + 1] = d3[3 * i + 1]; }
  return out;
}

// What Python wrote into the page (replab.viewer.write_viewer_html).
function fromEmbedded(raw) {
  const N = raw.titles.length, E = raw.coords.length, f32 = a => Float32Array.from(a);
  const d2 = raw.coords.map(f32);
  const d3 = raw.coords3 ? raw.coords3.map(f32) : d2.map(c => Float32Array.from({ length: 3 * N }, (_, j) => j % 3 === 2 ? 0 : c[2 * Math.floor(j / 3) + j % 3]));
  const proj = { pca: { d2, d3, names: ["PC1", "PC2", "PC3"] } };
  if (raw.umap3) { const u = raw.umap3.map(f32); proj.umap = { d3: u, d2: u.map(c => xyOf(c, N)), names: ["U1", "U2", "U3"] }; }
  return {
    name: raw.name || "", N, E, dim: raw.dim || 0, classes: raw.classes, colors: raw.colors, palette: raw.palette || FALLBACK_PALETTE,
    titles: raw.titles, labels: Int32Array.from(raw.labels), test: raw.test ? Uint8Array.from(raw.test) : null,
    snippets: raw.snippets, proj, K: raw.k || 0, emb: null,
    knn: raw.knn ? raw.knn.map(b => decodeIndices(b, raw.knn_bytes)) : new Array(E).fill(null),
    atlas: raw.images || null, tiles: raw.images ? Int32Array.from({ length: N }, (_, i) => i) : null,
    source: "python",
  };
}

// A CSV read in the page; pictures of the page's own data are kept for rows with the same title.
function fromCsv(parsed, proj, name, previous) {
  const N = parsed.titles.length, E = parsed.epochs.length;
  const classes = [...new Set(parsed.categories)].sort();
  const index = new Map(classes.map((c, i) => [c, i]));
  const palette = previous ? previous.palette : FALLBACK_PALETTE;
  let atlas = null, tiles = null;
  if (previous && previous.atlas) {
    const byTitle = new Map(previous.titles.map((t, i) => [t, previous.tiles[i]]));
    tiles = Int32Array.from(parsed.titles, t => byTitle.has(t) ? byTitle.get(t) : -1);
    if (tiles.some(t => t >= 0)) atlas = previous.atlas; else tiles = null;
  }
  return {
    name, N, E, dim: parsed.dim, classes, colors: classes.map((_, i) => palette[i % palette.length]), palette,
    titles: parsed.titles, labels: Int32Array.from(parsed.categories, c => index.get(c)),
    test: Uint8Array.from(parsed.splits, s => s === "test" ? 1 : 0), snippets: parsed.snippets,
    proj: { pca: { ...proj, names: ["PC1", "PC2", "PC3"] } }, K: Math.min(previous && previous.K || 10, N - 1),
    emb: parsed.epochs, knn: new Array(E).fill(null), atlas, tiles, source: name,
  };
}

async function openFile(file) {
  if (!file) return;
  const paint = () => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
  try {
    status(`Reading ${file.name} (${(file.size / 1e6).toFixed(1)} MB)…`);
    await paint();
    let text;
    try { text = new TextDecoder("utf-8", { fatal: true }).decode(await file.arrayBuffer()); } catch (err) {
      throw new CsvError(`${file.name}: not UTF-8; save it as UTF-8`);
    }
    const parsed = parseMantisCsv(text, file.name);
    const N = parsed.titles.length, E = parsed.epochs.length;
    const proj = await projectEpochs(parsed.epochs, N, parsed.dim, async e => {
      status(`${file.name}: ${N} rows × ${E} epochs × ${parsed.dim} numbers — PCA of epoch ${e} of ${E - 1}…`);
      await paint();
    });
    install(fromCsv(parsed, proj, file.name, D));
    status(null);
  } catch (err) {
    status(err instanceof CsvError ? err.message : `${file.name}: could not be opened (${err.message})`, true);
  }
}

function status(text, isError = false) {
  const el = $("status");
  el.hidden = !text; el.textContent = text || ""; el.classList.toggle("error", isError);
}

// ---------------------------------------------------------------- neighbours and overlaps

// The k nearest neighbours of item i at epoch e (indices, nearest first).
function neighbours(i, e) {
  const k = D.K;
  if (k < 1) return [];
  if (D.knn[e]) return D.knn[e].subarray(i * k, i * k + k);
  if (!D.emb) return [];
  const key = `${i}:${e}`;
  if (!nbCache.has(key)) {
    if (nbCache.size > 200) nbCache.clear();
    nbCache.set(key, knnRow(D.emb[e], D.N, D.dim, i, k).idx);
  }
  return nbCache.get(key);
}

// Items at epoch e with more than half of their k neighbours in one other class: [{i, among, n}],
// most surrounded first; null while the neighbours of that epoch are still being computed.
function overlapsAt(e) {
  if (!D.knn[e]) return null;
  if (!D.overlaps) D.overlaps = [];
  if (D.overlaps[e]) return D.overlaps[e];
  const k = D.K, counts = new Int32Array(D.classes.length), out = [], nb = D.knn[e];
  for (let i = 0; i < D.N; i++) {
    counts.fill(0);
    for (let j = 0; j < k; j++) counts[D.labels[nb[i * k + j]]]++;
    for (let c = 0; c < counts.length; c++) {
      if (c !== D.labels[i] && counts[c] * 2 > k) { out.push({ i, among: c, n: counts[c] }); break; }
    }
  }
  out.sort((a, b) => b.n - a.n || (D.titles[a.i] < D.titles[b.i] ? -1 : D.titles[a.i] > D.titles[b.i] ? 1 : a.i - b.i));
  return (D.overlaps[e] = out);
}

// A dropped CSV: the neighbours of every item at the epoch on show, computed in slices (not while playing).
function wantNeighbours() {
  if (!D.emb || S.playing || S.shown !== S.epoch || D.K < 1) return;
  const e = S.epoch;
  if (D.knn[e] || (job && job.e === e)) return;
  if (job) job.cancelled = true;
  const me = job = { e, cancelled: false, progress: 0, data: D };
  renderOverlaps();
  knnAll(D.emb[e], D.N, D.dim, D.K, p => { me.progress = p; if (me.e === S.epoch) $("overlapsNote").textContent = `finding neighbours… ${Math.round(100 * p)} %`; },
         () => me.cancelled || D !== me.data).then(idx => {
    if (!idx) return;
    me.data.knn[me.e] = idx;
    if (job === me) job = null;
    renderOverlaps(); renderPinned(); leftKey = ""; S.dirty = true;
    wantNeighbours();
  });
}
