// One plot panel: a 2-D canvas with our own projection (no WebGL needed). The points are stamped straight
// into a pixel buffer (precomputed anti-aliased discs, blended in JavaScript) and put on the canvas in one
// call: 5,000 points cost a few milliseconds even where the browser draws without a GPU, where one canvas
// call per point does not. The pinned item's trail, its neighbours and the hovered point are drawn on top
// with ordinary canvas paths.

const CAMERA_DISTANCE = 6;    // perspective: the box [-1, 1]³ seen from this far away
const DEPTH_BUCKETS = 64;
const BACKGROUND = [246, 247, 249];
const FILL_ALPHA = 0.82, FADED_ALPHA = 0.14;

function rgbOf(hex) { const v = parseInt(hex.slice(1), 16); return [v >> 16, (v >> 8) & 255, v & 255]; }

// An anti-aliased disc of radius r (device px) centred at (ox, oy) within its pixel: per covered pixel its
// offset, coverage (0..256) and, for rings, how much of the colour (vs white) it takes (0..256).
// Stamps are cached by (radius in half pixels, quarter of the pixel, ring); they hold offsets into the
// pixel buffer, so a new canvas width or device pixel ratio clears them.
let stamps = new Map(), stampsDpr = 0, stampsWidth = 0;
function stampFor(r, ox, oy, ring, ringWidth, width) {
  const key = ((Math.round(r * 2) * 2 + (ox > 0.5 ? 1 : 0)) * 2 + (oy > 0.5 ? 1 : 0)) * 2 + ring;
  let st = stamps.get(key);
  if (st) return st;
  const R = Math.ceil(r + 1), off = [], a = [], m = [];
  for (let y = -R; y <= R; y++) {
    for (let x = -R; x <= R; x++) {
      const d = Math.hypot(x + 0.5 - ox, y + 0.5 - oy), cov = Math.min(1, Math.max(0, r + 0.5 - d));
      if (cov <= 0) continue;
      off.push(y * width + x); a.push(Math.round(cov * 256));
      m.push(ring ? Math.round(256 * Math.min(1, Math.max(0, d - (r - ringWidth) + 0.5))) : 256);
    }
  }
  st = { R, off: Int32Array.from(off), a: Int32Array.from(a), m: Int32Array.from(m) };
  stamps.set(key, st);
  return st;
}

class View {
  constructor(panel) {
    this.panel = panel;
    this.canvas = panel.querySelector("canvas");
    this.ctx = this.canvas.getContext("2d");
    this.W = this.H = 1;
    this.sx = this.sy = this.sz = null;  // screen position (and depth) of every item in the last frame
    this.order = null;                   // the items drawn in the last frame, back to front
    this.count = 0;
  }

  resize() {
    const r = this.canvas.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    this.W = Math.max(1, r.width); this.H = Math.max(1, r.height);
    this.canvas.width = Math.round(this.W * dpr); this.canvas.height = Math.round(this.H * dpr);
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.dpr = dpr;
    this.image = this.ctx.createImageData(this.canvas.width, this.canvas.height);
    this.pixels = new Int32Array(this.image.data.buffer);  // Int32, not Uint32: opaque pixels stay small integers in V8
  }

  // Screen scale: the [-1, 1] box fills the shorter side (a little smaller in 3-D, where corners turn out).
  scale(cam, mode) { return (Math.min(this.W, this.H) / 2 - 14) * cam.zoom * (mode === "3d" ? 0.9 : 1); }

  // Project an (x, y, z) of the data box to [sx, sy, depth, perspective factor].
  project(x, y, z, cam, mode) {
    const k = this.scale(cam, mode), cx = this.W / 2 + cam.panX, cy = this.H / 2 + cam.panY;
    if (mode === "2d") return [cx + x * k, cy - y * k, 0, 1];
    const cy_ = Math.cos(cam.yaw), sy_ = Math.sin(cam.yaw), cp = Math.cos(cam.pitch), sp = Math.sin(cam.pitch);
    const x1 = x * cy_ + z * sy_, z1 = -x * sy_ + z * cy_;
    const y2 = y * cp - z1 * sp, z2 = y * sp + z1 * cp;
    const f = CAMERA_DISTANCE / (CAMERA_DISTANCE - z2);
    return [cx + x1 * f * k, cy - y2 * f * k, z2, f];
  }

  // Draw everything for the (possibly fractional, while moving) epoch t. ``look`` says what to show.
  draw(look, t) {
    const T0 = performance.now();
    const { D, cam, mode } = look, N = D.N, ctx = this.ctx;
    if (!this.sx || this.sx.length !== N) {
      this.sx = new Float32Array(N); this.sy = new Float32Array(N); this.sz = new Float32Array(N);
      this.pf = new Float32Array(N); this.order = new Int32Array(N);
    }
    const e0 = Math.floor(t), e1 = Math.min(e0 + 1, D.E - 1), f = t - e0;
    const { A, B, dims } = look.coords(e0, e1);
    const k = this.scale(cam, mode), cx = this.W / 2 + cam.panX, cy = this.H / 2 + cam.panY;
    const cyw = Math.cos(cam.yaw), syw = Math.sin(cam.yaw), cp = Math.cos(cam.pitch), sp = Math.sin(cam.pitch);
    const { sx, sy, sz, pf } = this, visible = look.visible;
    let count = 0;
    for (let i = 0; i < N; i++) {
      if (!visible[i]) continue;
      const b = i * dims;
      const x = A[b] + f * (B[b] - A[b]), y = A[b + 1] + f * (B[b + 1] - A[b + 1]);
      if (mode === "2d") { sx[i] = cx + x * k; sy[i] = cy - y * k; sz[i] = 0; pf[i] = 1; }
      else {
        const z = dims === 3 ? A[b + 2] + f * (B[b + 2] - A[b + 2]) : 0;
        const x1 = x * cyw + z * syw, z1 = -x * syw + z * cyw;
        const y2 = y * cp - z1 * sp, z2 = y * sp + z1 * cp, p = CAMERA_DISTANCE / (CAMERA_DISTANCE - z2);
        sx[i] = cx + x1 * p * k; sy[i] = cy - y2 * p * k; sz[i] = z2; pf[i] = p;
      }
      count++;
    }
    this.count = count;
    const T1 = performance.now();
    this.sortBackToFront(look, count);
    const T2 = performance.now();

    // Points: stamped into the pixel buffer back to front, sized by perspective.
    // Points grow a little with zoom and shrink a little in a small panel (side by side).
    const r0 = look.pointRadius * Math.min(1.8, Math.max(0.8, Math.pow(cam.zoom, 0.35)))
      * Math.min(1.2, Math.max(0.75, Math.sqrt(Math.min(this.W, this.H) / 650)));
    this.stampAll(look, r0);
    const T3 = performance.now();
    this.drawOverlay(look, t, r0);
    if (mode === "3d") this.drawAxes(cam, look.axisNames);
    const T4 = performance.now(); (window.TT = window.TT || []).push([T1-T0, T2-T1, T3-T2, T4-T3]);
  }

  stampAll(look, r0) {
    const pix = this.pixels, PW = this.canvas.width, PH = this.canvas.height, dpr = this.dpr;
    const [br, bg, bb] = BACKGROUND;
    pix.fill((255 << 24) | (bb << 16) | (bg << 8) | br);
    const { sx, sy, pf, order } = this, packed = look.packed, styleOf = look.style, colorOf = look.color;
    const ringWidth = Math.max(1.2, 1.1 * dpr);
    if (stampsDpr !== dpr || stampsWidth !== PW) { stamps = new Map(); stampsDpr = dpr; stampsWidth = PW; }
    for (let n = 0; n < this.count; n++) {
      const i = order[n], style = styleOf[i], ring = style & 1 ? 1 : 0;
      const x = sx[i] * dpr, y = sy[i] * dpr, ix = Math.floor(x), iy = Math.floor(y);
      const r = Math.max(1, Math.round(r0 * pf[i] * dpr * 2) / 2);  // half-pixel steps: few distinct stamps
      const st = stampFor(r, x - ix < 0.5 ? 0.25 : 0.75, y - iy < 0.5 ? 0.25 : 0.75, ring, ring ? ringWidth : 0, PW);
      if (ix - st.R < 0 || iy - st.R < 0 || ix + st.R >= PW || iy + st.R >= PH) continue;  // off the canvas (or its very edge)
      const alpha = Math.round(256 * (style >= 2 ? FADED_ALPHA : ring ? 1 : FILL_ALPHA));
      const colour = packed[colorOf[i]], rb = colour & 0xff00ff, g = colour & 0xff00;
      const { off, a, m } = st, base = iy * PW + ix;
      // Blend red+blue together and green alone: two multiplies per pixel instead of six.
      if (!ring) {
        for (let q = 0; q < off.length; q++) {
          const at = base + off[q], w = (a[q] * alpha) >> 8, v = 256 - w, d = pix[at];
          pix[at] = -16777216 | (((rb * w + (d & 0xff00ff) * v) >>> 8) & 0xff00ff) | (((g * w + (d & 0xff00) * v) >>> 8) & 0xff00);
        }
        continue;
      }
      for (let q = 0; q < off.length; q++) {  // a ring: its colour towards white inside
        const at = base + off[q], w = (a[q] * alpha) >> 8, v = 256 - w, d = pix[at], k = m[q], l = 256 - k;
        const srb = ((rb * k + 0xff00ff * l) >>> 8) & 0xff00ff, sg = ((g * k + 0xff00 * l) >>> 8) & 0xff00;
        pix[at] = -16777216 | (((srb * w + (d & 0xff00ff) * v) >>> 8) & 0xff00ff) | (((sg * w + (d & 0xff00) * v) >>> 8) & 0xff00);
      }
    }
    this.ctx.putImageData(this.image, 0, 0);
  }

  // Painter's order: far to near in 3-D (a counting sort on depth buckets: linear time), fixed in 2-D.
  sortBackToFront(look, count) {
    const order = this.order, visible = look.visible, shuffle = look.shuffle, N = shuffle.length;
    if (look.mode === "2d") {
      let n = 0;
      for (let s = 0; s < N; s++) { const i = shuffle[s]; if (visible[i]) order[n++] = i; }
      return;
    }
    const counts = new Int32Array(DEPTH_BUCKETS + 1), sz = this.sz, bucket = new Uint8Array(N);
    for (let s = 0; s < N; s++) {
      const i = shuffle[s];
      if (!visible[i]) continue;
      const b = Math.max(0, Math.min(DEPTH_BUCKETS - 1, Math.floor((sz[i] + 1.8) / 3.6 * DEPTH_BUCKETS)));
      bucket[i] = b; counts[b + 1]++;
    }
    for (let b = 0; b < DEPTH_BUCKETS; b++) counts[b + 1] += counts[b];
    for (let s = 0; s < N; s++) { const i = shuffle[s]; if (visible[i]) order[counts[bucket[i]]++] = i; }
  }

  drawOverlay(look, t, r0) {
    const ctx = this.ctx, { D, pinned, hover } = look;
    if (pinned >= 0) {
      // A veil over the other points, so the pinned item, its neighbours and its trail stand out.
      ctx.fillStyle = "rgba(246, 247, 249, 0.62)";
      ctx.fillRect(0, 0, this.W, this.H);
      const e = Math.round(t), trail = [];
      if (look.trail) {
        for (let q = 0; q < D.E; q++) trail.push(look.position(this, pinned, q));
        ctx.lineJoin = "round";
        for (let q = 1; q < D.E; q++) {  // older segments lighter: the direction of travel reads at a glance
          ctx.strokeStyle = `rgba(20, 24, 32, ${0.25 + 0.65 * q / (D.E - 1)})`;
          ctx.lineWidth = 1.5 + 1.5 * q / (D.E - 1);
          ctx.beginPath(); ctx.moveTo(trail[q - 1][0], trail[q - 1][1]); ctx.lineTo(trail[q][0], trail[q][1]); ctx.stroke();
        }
        ctx.font = "600 11px system-ui, sans-serif"; ctx.textAlign = "left"; ctx.textBaseline = "middle";
        trail.forEach(([x, y], q) => {
          ctx.beginPath(); ctx.arc(x, y, q === 0 || q === D.E - 1 ? 3.5 : 2.2, 0, 2 * Math.PI);
          ctx.fillStyle = "#141820"; ctx.fill();
          if (q === 0 || q === D.E - 1 || q === e) {
            ctx.lineWidth = 3; ctx.strokeStyle = "rgba(255,255,255,.9)"; ctx.strokeText(String(q), x + 9, y - 10);
            ctx.fillStyle = "#141820"; ctx.fillText(String(q), x + 9, y - 10);
          }
        });
      }
      const here = look.position(this, pinned, t);
      for (const j of look.neighbours(pinned, e)) {
        const [x, y] = look.position(this, j, t);
        ctx.strokeStyle = "rgba(60, 68, 80, .45)"; ctx.lineWidth = 1;
        ctx.beginPath(); ctx.moveTo(here[0], here[1]); ctx.lineTo(x, y); ctx.stroke();
        ctx.beginPath(); ctx.arc(x, y, r0 + 1.5, 0, 2 * Math.PI);
        ctx.fillStyle = D.colors[D.labels[j]]; ctx.fill();
        ctx.lineWidth = 1.5; ctx.strokeStyle = "#fff"; ctx.stroke();
      }
      this.ring(here, r0 + 5, D.colors[D.labels[pinned]]);
    }
    if (hover >= 0 && hover !== pinned && look.visible[hover]) this.ring([this.sx[hover], this.sy[hover]], r0 + 3, "#141820");
  }

  ring([x, y], r, color) {
    const ctx = this.ctx;
    ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.lineWidth = 4; ctx.strokeStyle = "#fff"; ctx.stroke();
    ctx.lineWidth = 2.2; ctx.strokeStyle = "#141820"; ctx.stroke();
    ctx.beginPath(); ctx.arc(x, y, r - 3, 0, 2 * Math.PI); ctx.fillStyle = color; ctx.fill();
  }

  // A small axis cross in the corner, so a rotation always reads as one.
  drawAxes(cam, names) {
    const ctx = this.ctx, ox = 44, oy = this.H - 44, len = 26;
    const cyw = Math.cos(cam.yaw), syw = Math.sin(cam.yaw), cp = Math.cos(cam.pitch), sp = Math.sin(cam.pitch);
    ctx.font = "10px system-ui, sans-serif"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
    [[1, 0, 0], [0, 1, 0], [0, 0, 1]].forEach(([x, y, z], a) => {
      const x1 = x * cyw + z * syw, z1 = -x * syw + z * cyw, y2 = y * cp - z1 * sp;
      ctx.strokeStyle = ctx.fillStyle = "#8a96a6"; ctx.lineWidth = 1.2;
      ctx.beginPath(); ctx.moveTo(ox, oy); ctx.lineTo(ox + x1 * len, oy - y2 * len); ctx.stroke();
      ctx.fillText(names[a], ox + x1 * (len + 10), oy - y2 * (len + 10));
    });
  }

  // The visible item nearest to (mx, my) within 9 px, front-most on a tie; -1 if none.
  pick(mx, my) {
    let best = -1, bestD = 81;
    for (let n = 0; n < this.count; n++) {
      const i = this.order[n], d = (this.sx[i] - mx) ** 2 + (this.sy[i] - my) ** 2;
      if (d <= bestD) { bestD = d; best = i; }
    }
    return best;
  }
}
