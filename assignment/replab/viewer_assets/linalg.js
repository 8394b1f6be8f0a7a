// The numbers a dropped CSV needs, computed in the page: aligned PCA of every epoch and k nearest neighbours.
// The same recipe as replab.viewer_data (Python) so a CSV looks the same whichever way it was opened:
// centre, project on the top principal axes, scale to unit RMS radius, rotate/reflect onto the epoch before
// (orthogonal Procrustes), then one fixed box [-1, 1] for all epochs.

// Eigen-decomposition of a small symmetric matrix (row-major, n×n) by cyclic Jacobi rotations.
// Returns {values, vectors} sorted by decreasing value; vectors[k] is the k-th eigenvector.
function jacobiEigen(A, n) {
  const a = Float64Array.from(A), v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {  // A ← Jᵀ A J
          const akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq; a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk; a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p], vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq; v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = [...Array(n).keys()].sort((i, j) => a[j * n + j] - a[i * n + i]);
  return { values: order.map(i => a[i * n + i]), vectors: order.map(i => Array.from({ length: n }, (_, k) => v[k * n + i])) };
}

// Top-k principal coordinates (n×k, Float64Array) of X (n×d, row-major): covariance, then subspace
// iteration for its top k eigenvectors (d is the layer width, 64 or 128: a d×d matrix is small).
function pcaCoords(X, n, d, k) {
  const mean = new Float64Array(d), row = new Float64Array(d), C = new Float64Array(d * d);
  for (let r = 0; r < n; r++) for (let a = 0; a < d; a++) mean[a] += X[r * d + a];
  for (let a = 0; a < d; a++) mean[a] /= n;
  for (let r = 0; r < n; r++) {
    for (let a = 0; a < d; a++) row[a] = X[r * d + a] - mean[a];
    for (let a = 0; a < d; a++) {
      const xa = row[a];
      if (xa === 0) continue;  // ReLU layers are mostly zeros
      const base = a * d;
      for (let b = a; b < d; b++) C[base + b] += xa * row[b];
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) C[a * d + b] = C[b * d + a];
  const m = Math.min(k, d);
  let V = Array.from({ length: m }, (_, j) => Float64Array.from({ length: d }, (_, a) => Math.sin(1 + a * (j + 1) * 0.7) + (a === j ? 1 : 0)));
  orthonormalize(V, d);
  for (let it = 0; it < 300; it++) {
    const W = V.map(v => matVec(C, v, d));
    orthonormalize(W, d);
    let change = 0;
    for (let j = 0; j < m; j++) change = Math.max(change, 1 - Math.abs(dot(W[j], V[j], d)));
    V = W;
    if (change < 1e-12) break;
  }
  // Rayleigh–Ritz: order the k axes by the variance they carry.
  const T = new Float64Array(m * m);
  const CV = V.map(v => matVec(C, v, d));
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) T[i * m + j] = dot(V[i], CV[j], d);
  const { vectors } = jacobiEigen(T, m);
  const axes = vectors.map(w => { const u = new Float64Array(d); w.forEach((wj, j) => { for (let a = 0; a < d; a++) u[a] += wj * V[j][a]; }); return u; });
  const out = new Float64Array(n * k);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      const u = axes[j];
      for (let a = 0; a < d; a++) s += (X[r * d + a] - mean[a]) * u[a];
      out[r * k + j] = s;
    }
  }
  return out;
}

function dot(u, v, d) { let s = 0; for (let a = 0; a < d; a++) s += u[a] * v[a]; return s; }
function matVec(C, v, d) {
  const w = new Float64Array(d);
  for (let a = 0; a < d; a++) { let s = 0; const base = a * d; for (let b = 0; b < d; b++) s += C[base + b] * v[b]; w[a] = s; }
  return w;
}
function orthonormalize(vs, d) {  // modified Gram–Schmidt, in place
  for (let j = 0; j < vs.length; j++) {
    for (let i = 0; i < j; i++) { const p = dot(vs[j], vs[i], d); for (let a = 0; a < d; a++) vs[j][a] -= p * vs[i][a]; }
    const norm = Math.sqrt(dot(vs[j], vs[j], d)) || 1;
    for (let a = 0; a < d; a++) vs[j][a] /= norm;
  }
}

// Centre the n×k coordinates and scale them to unit root-mean-square radius, in place.
function unitRms(P, n, k) {
  for (let j = 0; j < k; j++) { let s = 0; for (let r = 0; r < n; r++) s += P[r * k + j]; s /= n; for (let r = 0; r < n; r++) P[r * k + j] -= s; }
  let sq = 0;
  for (let i = 0; i < n * k; i++) sq += P[i] * P[i];
  const radius = Math.sqrt(sq / n);
  if (radius > 0) for (let i = 0; i < n * k; i++) P[i] /= radius;
  return P;
}

// Rotate/reflect P (n×k) onto Q (orthogonal Procrustes): P ← P R with R = M (MᵀM)^-½, M = PᵀQ (R = U Vᵀ).
function procrustes(P, Q, n, k) {
  const M = new Float64Array(k * k);
  for (let r = 0; r < n; r++) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) M[i * k + j] += P[r * k + i] * Q[r * k + j];
  const MtM = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) { let s = 0; for (let t = 0; t < k; t++) s += M[t * k + i] * M[t * k + j]; MtM[i * k + j] = s; }
  const { values, vectors } = jacobiEigen(MtM, k);
  const top = Math.max(values[0], 1e-300);
  const inv = new Float64Array(k * k);  // (MᵀM)^-½, flat directions left out
  values.forEach((lam, t) => {
    if (lam <= top * 1e-12) return;
    const w = 1 / Math.sqrt(lam), u = vectors[t];
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) inv[i * k + j] += w * u[i] * u[j];
  });
  const R = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) { let s = 0; for (let t = 0; t < k; t++) s += M[i * k + t] * inv[t * k + j]; R[i * k + j] = s; }
  const out = new Float64Array(n * k);
  for (let r = 0; r < n; r++) for (let j = 0; j < k; j++) { let s = 0; for (let t = 0; t < k; t++) s += P[r * k + t] * R[t * k + j]; out[r * k + j] = s; }
  return out;
}

// Divide every epoch by one half-width (the largest 99.5 % quantile of |coordinate|) and clip to [-1, 1].
function fixedBox(list, n, k) {
  let box = 0;
  const extent = new Float64Array(n);
  for (const P of list) {
    for (let r = 0; r < n; r++) { let m = 0; for (let j = 0; j < k; j++) m = Math.max(m, Math.abs(P[r * k + j])); extent[r] = m; }
    extent.sort();
    const pos = 0.995 * (n - 1), lo = Math.floor(pos), hi = Math.min(lo + 1, n - 1);
    box = Math.max(box, extent[lo] + (pos - lo) * (extent[hi] - extent[lo]));
  }
  box = box || 1;
  return list.map(P => Float32Array.from(P, v => Math.max(-1, Math.min(1, v / box))));
}

// Aligned projections of every epoch: {d2: [Float32Array n*2], d3: [Float32Array n*3]}. ``onEpoch(e)`` is
// awaited between epochs so the page can say how far it is (and stays responsive).
async function projectEpochs(epochs, n, d, onEpoch) {
  const raw2 = [], raw3 = [];
  let prev2 = null, prev3 = null;
  for (let e = 0; e < epochs.length; e++) {
    await onEpoch(e);
    const P = pcaCoords(epochs[e], n, d, 3);
    const P2 = new Float64Array(n * 2);
    for (let r = 0; r < n; r++) { P2[2 * r] = P[3 * r]; P2[2 * r + 1] = P[3 * r + 1]; }
    unitRms(P2, n, 2); unitRms(P, n, 3);
    prev2 = prev2 ? procrustes(P2, prev2, n, 2) : P2;
    prev3 = prev3 ? procrustes(P, prev3, n, 3) : P;
    raw2.push(prev2); raw3.push(prev3);
  }
  return { d2: fixedBox(raw2, n, 2), d3: fixedBox(raw3, n, 3) };
}

// The k nearest other rows of row i (exact squared distances; ties go to the lower index).
function knnRow(X, n, d, i, k) {
  const idx = new Int32Array(k).fill(-1), dist = new Float64Array(k).fill(Infinity);
  const base = i * d;
  for (let j = 0; j < n; j++) {
    if (j === i) continue;
    let s = 0;
    const bj = j * d;
    for (let a = 0; a < d; a++) { const t = X[base + a] - X[bj + a]; s += t * t; }
    if (s < dist[k - 1]) insertSorted(idx, dist, 0, k, j, s);
  }
  return { idx, dist };
}

// Insert (j, s) into the sorted slice [at, at + k) of idx/dist, dropping the last; equal distances keep
// the earlier arrival first (callers offer candidates in increasing index order).
function insertSorted(idx, dist, at, k, j, s) {
  let p = at + k - 1;
  while (p > at && dist[p - 1] > s) { dist[p] = dist[p - 1]; idx[p] = idx[p - 1]; p--; }
  dist[p] = s; idx[p] = j;
}

// k nearest neighbours of every row (n×k Int32Array) without freezing the page: rows are done in slices
// of about ``sliceMs`` and the page gets the thread back between slices. Each pair is measured once and
// offered to both rows, in increasing index order for each row (so ties resolve as in knnRow).
async function knnAll(X, n, d, k, onProgress, isCancelled, sliceMs = 10) {
  const idx = new Int32Array(n * k).fill(-1), dist = new Float64Array(n * k).fill(Infinity);
  let i = 0;
  while (i < n) {
    const started = performance.now();
    do {
      const base = i * d, ri = i * k;
      for (let j = i + 1; j < n; j++) {
        let s = 0;
        const bj = j * d;
        for (let a = 0; a < d; a++) { const t = X[base + a] - X[bj + a]; s += t * t; }
        if (s < dist[ri + k - 1]) insertSorted(idx, dist, ri, k, j, s);
        if (s < dist[j * k + k - 1]) insertSorted(idx, dist, j * k, k, i, s);
      }
      i++;
    } while (i < n && performance.now() - started < sliceMs);
    if (isCancelled()) return null;
    onProgress(1 - ((n - i) / n) ** 2);  // work left shrinks with the square of the rows left
    await yieldToPage();
  }
  return idx;
}

// Give the thread back for one turn of the event loop (a MessageChannel: no 4 ms setTimeout clamp).
const yieldChannel = new MessageChannel(), yieldWaiters = [];
yieldChannel.port1.onmessage = () => yieldWaiters.shift()();
function yieldToPage() { return new Promise(resolve => { yieldWaiters.push(resolve); yieldChannel.port2.postMessage(0); }); }
