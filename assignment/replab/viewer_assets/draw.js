// Drawing: the frame loop (moving between epochs, playing, spinning) and the frame-time bench.

function coordsOf() {
  const p = D.proj[S.proj] || D.proj.pca;
  return S.mode === "3d" ? { list: p.d3, dims: 3, names: p.names } : { list: p.d2, dims: 2, names: p.names };
}

// Screen position of item i in view v at the (possibly fractional) epoch t.
function position(v, i, t) {
  const { list, dims } = coordsOf(), e0 = Math.floor(t), e1 = Math.min(e0 + 1, D.E - 1), f = t - e0;
  const A = list[e0], B = list[e1], b = i * dims, at = j => A[b + j] + f * (B[b + j] - A[b + j]);
  return v.project(at(0), at(1), dims === 3 ? at(2) : 0, S.cam, S.mode);
}

function drawAll() {
  const { list, dims, names } = coordsOf();
  const base = {
    D, cam: S.cam, mode: S.mode, pinned: S.pinned, hover: S.hover, trail: S.trail && D.E > 1, axisNames: names,
    visible: look.visible, color: look.color, style: look.style, packed: look.packed, shuffle: look.shuffle,
    pointRadius: look.pointRadius, coords: (e0, e1) => ({ A: list[e0], B: list[e1], dims }),
    position, neighbours,
  };
  // The left panel's epoch is fixed: while only the epoch moves (playing), its last frame still holds.
  const key = JSON.stringify([S.cam, S.mode, S.proj, S.left, S.pinned, S.hover, S.trail, look.version, views[0].W, views[0].H]);
  if (S.side && key !== leftKey) { views[0].draw(base, S.left); leftKey = key; }
  views[1].draw(base, S.shown);
}

// The view has arrived at an epoch: the panels follow (the long overlaps list only once playing stops).
function settled() {
  renderPinned();
  if (S.playing) $("overlapsNote").textContent = "(updated when the epochs stop)";
  else { renderOverlaps(); wantNeighbours(); }
}

let last = 0, labelEpoch = -1;
function frame(now) {
  const dt = Math.min(now - last, 100) / 1000;
  last = now;
  if (D) {
    let moving = false;
    if (S.playing && Math.abs(S.shown - S.epoch) < 1e-6) {
      if (S.epoch >= D.E - 1) {
        if (S.bench) { S.shown = S.epoch = 0; } else { S.playing = false; $("play").innerHTML = "&#9654; play"; settled(); }
      } else { S.epoch += 1; }
      $("epoch").value = S.epoch;
    }
    if (S.shown !== S.epoch) {
      // Playing moves at a steady pace; a jump of the slider gets there in about a third of a second.
      const step = dt * (S.playing ? PLAY_SPEED : Math.max(PLAY_SPEED, Math.abs(S.epoch - S.shown) / 0.3));
      S.shown = Math.abs(S.epoch - S.shown) <= step ? S.epoch : S.shown + Math.sign(S.epoch - S.shown) * step;
      moving = true;
      if (S.shown === S.epoch) settled();
    }
    if (S.spin && S.mode === "3d") { S.cam.yaw += dt * 0.5; moving = true; }
    if (Math.round(S.shown) !== labelEpoch) { labelEpoch = Math.round(S.shown); updateEpochLabel(); }
    if (moving || S.dirty || S.bench) {
      const t0 = performance.now();
      drawAll();
      S.dirty = false;
      if (S.bench) benchRecord(now, performance.now() - t0);
    }
  }
  requestAnimationFrame(frame);
}

// ---------------------------------------------------------------- frame-time measurement (bench, tests)

// Measure ``frames`` frames while rotating ("rotate") or playing ("play"): the interval between frames
// (what a person sees) and the time our drawing takes in each. Resolves to {intervals, draws} summaries.
function bench(kind, frames = 120) {
  return new Promise(resolve => {
    const saved = { spin: S.spin, playing: S.playing, mode: S.mode };
    if (kind === "rotate") { S.mode = "3d"; S.spin = true; } else { S.playing = true; S.shown = S.epoch = 0; }
    S.bench = { frames, prev: null, intervals: [], draws: [], done: stats => {
      Object.assign(S, saved); S.bench = null; S.dirty = true; resolve(stats);
    } };
  });
}
function benchRecord(now, drawMs) {
  const b = S.bench;
  if (b.prev !== null) { b.intervals.push(now - b.prev); b.draws.push(drawMs); }
  b.prev = now;
  if (b.intervals.length >= b.frames) {
    const summary = xs => { const s = [...xs].sort((x, y) => x - y); return { mean: s.reduce((a, x) => a + x, 0) / s.length, p95: s[Math.floor(0.95 * (s.length - 1))], max: s[s.length - 1] }; };
    b.done({ frames: b.intervals.length, interval: summary(b.intervals), draw: summary(b.draws), items: D.N, epochs: D.E });
  }
}
