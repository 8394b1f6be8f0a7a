// Start: show the data this file was written with.

install(fromEmbedded(JSON.parse($("data").textContent)));
updateHint();
resize();
requestAnimationFrame(t => { last = t; frame(t); });

// For tests and the frame-time bench.
window.viewer = {
  state: S, data: () => D, bench, pin, setEpoch, openFile, neighbours: (i, e) => Array.from(neighbours(i, e)),
  screenPos: (i, which = 1) => position(views[which], i, which === 0 ? S.left : S.shown),
  busy: () => !!job || S.shown !== S.epoch,
  drawn: () => Array.from(views[1].order.subarray(0, views[1].count)),
};
