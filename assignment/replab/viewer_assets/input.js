// Mouse, keyboard, the controls in the header, drag-and-drop of a CSV.

function showTip(i, ev) {
  const tip = $("tip");
  if (i < 0) { tip.style.display = "none"; return; }
  const t = document.createElement("b"); t.textContent = D.titles[i];
  const m = document.createElement("div"); m.className = "meta";
  m.textContent = D.classes[D.labels[i]] + (D.test ? (D.test[i] ? " · test" : " · train") : "");
  const s = document.createElement("div"); s.textContent = D.snippets[i].length > 220 ? D.snippets[i].slice(0, 219) + "…" : D.snippets[i];
  tip.replaceChildren(...[t, m, picture(i, 64, ""), s].filter(Boolean));
  tip.style.display = "block";
  tip.style.left = Math.min(ev.clientX + 14, window.innerWidth - tip.offsetWidth - 8) + "px";
  tip.style.top = Math.min(ev.clientY + 14, window.innerHeight - tip.offsetHeight - 8) + "px";
}

views.forEach(v => {
  const c = v.canvas;
  let drag = null;
  const local = ev => { const r = c.getBoundingClientRect(); return [ev.clientX - r.left, ev.clientY - r.top]; };
  c.addEventListener("pointerdown", ev => {
    const [x, y] = local(ev);
    drag = { x, y, moved: false, pan: S.mode === "2d" || ev.shiftKey || ev.button === 2 };
    c.setPointerCapture(ev.pointerId);
    c.classList.add("dragging");
  });
  c.addEventListener("pointermove", ev => {
    if (!D) return;
    const [x, y] = local(ev);
    if (drag) {
      const dx = x - drag.x, dy = y - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (!drag.moved) return;
      if (drag.pan) { S.cam.panX += dx; S.cam.panY += dy; }
      else { S.cam.yaw += dx * 0.008; S.cam.pitch = Math.max(-1.55, Math.min(1.55, S.cam.pitch + dy * 0.008)); }
      drag.x = x; drag.y = y; S.dirty = true;
      showTip(-1);
      return;
    }
    const i = v.pick(x, y);
    if (i !== S.hover) { S.hover = i; S.dirty = true; }
    showTip(i, ev);
  });
  c.addEventListener("pointerup", ev => {
    c.classList.remove("dragging");
    if (drag && !drag.moved && D) { const [x, y] = local(ev); pin(v.pick(x, y)); }
    drag = null;
  });
  c.addEventListener("pointerleave", () => { if (S.hover >= 0) { S.hover = -1; S.dirty = true; } showTip(-1); });
  c.addEventListener("contextmenu", ev => ev.preventDefault());
  c.addEventListener("wheel", ev => {  // zoom about the cursor
    ev.preventDefault();
    const [x, y] = local(ev), f = Math.exp(-ev.deltaY * 0.0015), zoom = Math.max(0.3, Math.min(60, S.cam.zoom * f));
    const g = zoom / S.cam.zoom;
    S.cam.panX = x + (v.W / 2 + S.cam.panX - x) * g - v.W / 2;
    S.cam.panY = y + (v.H / 2 + S.cam.panY - y) * g - v.H / 2;
    S.cam.zoom = zoom; S.dirty = true;
  }, { passive: false });
});

$("epoch").addEventListener("input", () => {
  S.playing = false; $("play").innerHTML = "&#9654; play";
  setEpoch(+$("epoch").value);
});
$("play").onclick = () => {
  S.playing = !S.playing;
  if (S.playing && S.epoch >= D.E - 1) { S.shown = S.epoch = 0; $("epoch").value = 0; }
  $("play").innerHTML = S.playing ? "&#10074;&#10074; pause" : "&#9654; play";
  if (!S.playing) { setEpoch(Math.round(S.shown)); wantNeighbours(); }
};
document.querySelectorAll("#dims button").forEach(b => b.onclick = () => {
  S.mode = b.dataset.view;
  document.querySelectorAll("#dims button").forEach(x => x.classList.toggle("on", x === b));
  $("spin").disabled = S.mode !== "3d";
  updateHint(); S.dirty = true;
});
$("proj").onchange = () => { S.proj = $("proj").value; S.dirty = true; };
$("colorBy").onchange = () => { S.colorBy = $("colorBy").value; renderLegend(); restyle(); };
$("show").onchange = () => { S.show = $("show").value; restyle(); renderOverlaps(); };
$("side").onchange = () => {
  S.side = $("side").checked;
  $("panelA").hidden = !S.side;
  if (S.side && S.epoch === S.left) setEpoch(D.E - 1);
  S.cam.panX = S.cam.panY = 0;  // the panels change size: start them centred
  resize();
};
$("leftEpoch").onchange = () => { S.left = +$("leftEpoch").value; S.dirty = true; };
$("spin").onclick = () => { S.spin = !S.spin; $("spin").classList.toggle("on", S.spin); };
$("reset").onclick = () => { S.cam = { ...CAMERA }; S.dirty = true; };
$("file").onchange = () => { openFile($("file").files[0]); $("file").value = ""; };
$("search").addEventListener("input", () => { S.query = $("search").value; restyle(); renderResults(); });
$("search").addEventListener("keydown", ev => {
  if (ev.key === "Enter") { const first = $("results").querySelector(".row"); if (first) first.click(); }
  if (ev.key === "Escape") { $("search").value = ""; S.query = ""; restyle(); renderResults(); $("search").blur(); }
});

let dragDepth = 0;  // dragenter/leave fire for every child: count them
document.addEventListener("dragenter", ev => { ev.preventDefault(); dragDepth++; document.body.classList.add("dragover"); });
document.addEventListener("dragleave", () => { if (--dragDepth <= 0) { dragDepth = 0; document.body.classList.remove("dragover"); } });
document.addEventListener("dragover", ev => ev.preventDefault());
document.addEventListener("drop", ev => {
  ev.preventDefault(); dragDepth = 0; document.body.classList.remove("dragover");
  openFile(ev.dataTransfer.files[0]);
});

document.addEventListener("keydown", ev => {
  const tag = ev.target.tagName, type = ev.target.type;
  const typing = tag === "SELECT" || tag === "TEXTAREA" || (tag === "INPUT" && !["range", "checkbox"].includes(type));
  if (!D || typing || (tag === "BUTTON" && (ev.key === " " || ev.key === "Enter"))) return;  // a button's own keys
  if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
    if (type === "range") return;  // the slider moves itself
    setEpoch(S.epoch + (ev.key === "ArrowRight" ? 1 : -1)); ev.preventDefault();
  } else if (ev.key === "Escape") pin(-1);
  else if (ev.key === "/") { $("search").focus(); ev.preventDefault(); }
  else if (ev.key === " ") { $("play").click(); ev.preventDefault(); }
});

function updateHint() {
  $("hint").textContent = (S.mode === "3d" ? "drag: rotate · shift-drag: pan" : "drag: pan")
    + " · wheel: zoom · click: pin · ←/→: epoch";
}

function resize() { views.forEach(v => v.resize()); S.dirty = true; leftKey = ""; }
window.addEventListener("resize", resize);
