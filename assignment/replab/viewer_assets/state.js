// The page's state: what is shown and how, the data on show, the two plot panels, and what every item
// looks like (install: a new data set; restyle: after a change of colouring, filter or search).

const $ = id => document.getElementById(id);
const SPLIT_COLORS = ["#4c78a8", "#f58518"];  // train, test (when colouring by split)
const FALLBACK_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const PLAY_SPEED = 1.6;      // epochs per second
const MAX_LISTED = 100;      // overlaps rows drawn at first (a button adds more)
const CAMERA = { yaw: -0.55, pitch: 0.32, zoom: 1, panX: 0, panY: 0 };

const S = {
  mode: "3d", proj: "pca", colorBy: "class", show: "all", side: false, trail: true,
  epoch: 0, shown: 0, left: 0, playing: false, spin: false,
  pinned: -1, hover: -1, query: "", pair: null, listed: MAX_LISTED,
  cam: { ...CAMERA }, dirty: true, bench: null,
};
let D = null;                      // the data on show (see fromEmbedded / fromCsv)
let look = null;                   // per-data drawing arrays: visible, colour and style of every item
let leftKey = "", styleVersion = 0; // what the left panel last drew (see drawAll)
let job = null;                    // the running all-neighbours computation of a dropped CSV
const views = [new View($("panelA")), new View($("panelB"))];  // [left (side by side only), main]
const nbCache = new Map();

function install(data) {
  if (job) job.cancelled = true;
  job = null;
  D = data;
  nbCache.clear();
  const N = D.N;
  S.epoch = S.shown = D.E - 1; S.left = 0; S.pinned = S.hover = -1; S.query = ""; S.pair = null; S.playing = false;
  if (!D.proj[S.proj]) S.proj = "pca";
  let seed = 12345;  // a fixed shuffle: in 2-D no class is always painted on top
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const shuffle = Int32Array.from({ length: N }, (_, i) => i);
  for (let i = N - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [shuffle[i], shuffle[j]] = [shuffle[j], shuffle[i]]; }
  look = {
    visible: new Uint8Array(N), color: new Uint8Array(N), style: new Uint8Array(N), shuffle, hidden: new Set(),
    matches: null, packed: [...D.colors, ...SPLIT_COLORS].map(hex => { const [r, g, b] = rgbOf(hex); return (b << 16) | (g << 8) | r; }),
    pointRadius: Math.max(2.4, Math.min(5, 9 - 1.6 * Math.log10(N))),
  };
  if (D.atlas) {
    D.atlasImage = new Image();
    D.atlasImage.onload = () => { renderPinned(); renderOverlaps(); };
    D.atlasImage.src = D.atlas.src;
  }
  $("search").value = "";
  $("results").replaceChildren();
  $("epoch").max = D.E - 1;
  $("epoch").value = S.epoch;
  $("leftEpoch").replaceChildren(...Array.from({ length: D.E }, (_, e) => new Option(String(e), String(e))));
  $("leftEpoch").value = "0";
  $("proj").value = S.proj;
  $("proj").querySelector('[value="umap"]').disabled = !D.proj.umap;
  $("proj").title = D.proj.umap ? "" : "UMAP: precomputed by Python when umap-learn is installed";
  $("colorBy").querySelector('[value="split"]').disabled = !D.test;
  $("show").disabled = !D.test;
  document.title = D.source === "python" ? document.title : `${D.source} — embeddings over epochs`;
  if (D.source !== "python") $("title").textContent = D.source;
  $("about").textContent = `${N.toLocaleString()} items · ${D.E} epochs (0 = before training)` + (D.dim ? ` · ${D.dim}-d embeddings` : "")
    + (D.source === "python" ? " · projections and neighbours computed in Python when this file was written."
      : " · read from the CSV in this page: PCA and neighbours computed here.")
    + " Drop any Mantis CSV on the page to open it.";
  renderLegend();
  restyle();
  renderPinned();
  renderOverlaps();
  updateEpochLabel();
  wantNeighbours();
  S.dirty = true;
}

// Which items are drawn, in which colour and style (filled train, ring test, faded).
function restyle() {
  const { visible, color, style, hidden } = look, N = D.N, nClasses = D.classes.length;
  const q = S.query.trim().toLowerCase();
  look.matches = q ? Uint8Array.from(D.titles, t => t.toLowerCase().includes(q) ? 1 : 0) : null;
  for (let i = 0; i < N; i++) {
    const isTest = D.test ? D.test[i] : 0;
    visible[i] = !hidden.has(D.labels[i]) && (S.show === "all" || (S.show === "test") === !!isTest) ? 1 : 0;
    color[i] = S.colorBy === "split" ? nClasses + isTest : D.labels[i];
    style[i] = (S.colorBy === "class" && isTest ? 1 : 0) + (look.matches && !look.matches[i] ? 2 : 0);
  }
  look.version = ++styleVersion;
  S.dirty = true;
}

