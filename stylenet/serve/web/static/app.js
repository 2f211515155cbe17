// stylenet-serve's page: stylize a photo over POST /v1/stylize, live webcam over WS /v1/live.
"use strict";

const PREVIEW_SIDE = 384; // previews are stylized on a copy this long; "Full size" sends the photo
const state = { models: [], file: null, painting: null, photoSide: 0, seq: 0, timer: null, resultUrl: null, live: null };
// The arbitrary-style network (any painting, no training), offered when the server takes paintings.
const ANY_PAINTING = { name: "arbitrary", styles: [], multi_style: false, painting: true };

function currentModel() {
  return state.models.find((m) => m.name === $("model").value);
}

async function loadModels() {
  try {
    const response = await api("/v1/models");
    const listing = await response.json();
    state.models = listing.models.concat(listing.paintings ? [ANY_PAINTING] : []);
    $("model").innerHTML = "";
    for (const model of state.models) {
      const option = document.createElement("option");
      option.value = model.name;
      option.textContent = model.painting
        ? "any painting (upload one)"
        : model.multi_style ? `${model.name} (${model.styles.length} styles)` : model.name;
      $("model").append(option);
    }
    renderStyles();
    setStatus(state.file ? "" : "Choose a photo.");
  } catch (error) {
    setStatus(error.message, true);
  }
}

function renderStyles() {
  const box = $("styles");
  box.innerHTML = "";
  const model = currentModel();
  $("painting-row").hidden = !(model && model.painting);
  $("live-start").disabled = Boolean(model && model.painting); // live video: trained models
  if (!model || !model.multi_style) return;
  const title = document.createElement("p");
  title.textContent = "Blend (weights are normalised)";
  box.append(title);
  model.styles.forEach((name, index) => {
    const label = document.createElement("label");
    label.innerHTML = `<span></span><input type="range" min="0" max="100" class="blend"><output></output>`;
    label.querySelector("span").textContent = name.replaceAll("_", " ");
    const slider = label.querySelector("input");
    slider.dataset.style = name;
    slider.value = index === 0 ? 100 : 0;
    label.querySelector("output").textContent = slider.value;
    slider.addEventListener("input", () => {
      label.querySelector("output").textContent = slider.value;
      optionsChanged();
    });
    box.append(label);
  });
}

function blendText() {
  const parts = [...document.querySelectorAll("input.blend")]
    .filter((s) => Number(s.value) > 0)
    .map((s) => `${s.dataset.style}:${Number(s.value) / 100}`);
  if (!parts.length) throw new Error("Give at least one style a weight above 0.");
  return parts.join(",");
}

function options() {
  const model = currentModel();
  const values = { strength: (Number($("strength").value) / 100).toFixed(2) };
  if ($("preserve-color").checked) values.preserve_color = "true";
  if (model && model.multi_style) values.blend = blendText();
  return values;
}

async function stylize(full) {
  const model = currentModel();
  if (!state.file || !model) return;
  if (model.painting && !state.painting) {
    setStatus("Choose a painting to imitate.");
    return;
  }
  const seq = ++state.seq;
  try {
    const query = new URLSearchParams({ model: model.name, format: "jpeg", ...options() });
    if (!full && state.photoSide > PREVIEW_SIDE) query.set("size", PREVIEW_SIDE);
    const form = new FormData();
    form.append("image", state.file);
    if (model.painting) form.append("painting", state.painting);
    setStatus(full ? "Stylizing at full size…" : "Stylizing a preview…");
    const started = performance.now();
    const response = await api(`/v1/stylize?${query}`, { method: "POST", body: form });
    const blob = await response.blob();
    if (seq !== state.seq) return; // a newer request replaced this one
    showResult(blob, full ? "full size" : "preview");
    setStatus(`${full ? "Full size" : "Preview"} in ${Math.round(performance.now() - started)} ms.`);
  } catch (error) {
    if (seq === state.seq) setStatus(error.message, true);
  }
}

function showResult(blob, kind) {
  if (state.resultUrl) URL.revokeObjectURL(state.resultUrl);
  state.resultUrl = URL.createObjectURL(blob);
  const result = $("result");
  result.onload = () => {
    result.dataset.requests = String(Number(result.dataset.requests) + 1);
    result.dataset.kind = kind;
  };
  result.src = state.resultUrl;
  $("result-caption").textContent = `Stylized (${kind})`;
  $("download").href = state.resultUrl;
  $("download").hidden = false;
}

function optionsChanged() {
  $("strength-value").textContent = (Number($("strength").value) / 100).toFixed(2);
  if (state.live) {
    try { state.live.ws.send(JSON.stringify(liveOptions())); } catch (error) { setStatus(error.message, true); }
    return;
  }
  clearTimeout(state.timer);
  state.timer = setTimeout(() => stylize(false), 250);
}

function choose(file) {
  if (!file) return;
  state.file = file;
  const url = URL.createObjectURL(file);
  const photo = $("photo");
  photo.onload = () => {
    state.photoSide = Math.max(photo.naturalWidth, photo.naturalHeight);
    $("full").disabled = false;
    stylize(false);
  };
  photo.onerror = () => setStatus("The browser cannot show this file; the server will say if it can read it.", true);
  photo.src = url;
}

function choosePainting(file) {
  if (!file) return;
  state.painting = file;
  const preview = $("painting");
  preview.src = URL.createObjectURL(file);
  preview.hidden = false;
  stylize(false);
}

// Live webcam: frames go out as JPEG over the WebSocket, one at a time; the server stylizes
// the newest and applies its temporal stabiliser.
function liveOptions() {
  const values = options();
  const model = currentModel();
  const out = { strength: Number(values.strength), preserve_color: Boolean(values.preserve_color) };
  if (model && model.multi_style) out.blend = values.blend;
  return out;
}

async function startLive() {
  const model = currentModel();
  if (!model) return;
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
    const video = $("camera");
    video.srcObject = stream;
    const query = new URLSearchParams({ model: model.name, ...options() });
    if (apiKey()) query.set("api_key", apiKey());
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/v1/live?${query}`);
    ws.binaryType = "blob";
    const live = { ws, stream, waiting: false, frames: 0, since: performance.now() };
    state.live = live;
    const canvas = document.createElement("canvas");
    const pump = () => {
      if (state.live !== live) return;
      if (ws.readyState === WebSocket.OPEN && !live.waiting && video.videoWidth) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        canvas.getContext("2d").drawImage(video, 0, 0);
        live.waiting = true;
        canvas.toBlob((blob) => ws.send(blob), "image/jpeg", 0.8);
      }
      requestAnimationFrame(pump);
    };
    ws.onopen = () => { setStatus("Live."); pump(); };
    ws.onmessage = (event) => {
      live.waiting = false;
      if (typeof event.data === "string") {
        setStatus(JSON.parse(event.data).error || event.data, true);
        return;
      }
      showResult(event.data, "live");
      live.frames += 1;
      const seconds = (performance.now() - live.since) / 1000;
      if (seconds >= 1) {
        $("fps").textContent = `${(live.frames / seconds).toFixed(1)} FPS`;
        live.frames = 0;
        live.since = performance.now();
      }
    };
    ws.onclose = (event) => { if (state.live === live) { stopLive(); if (event.code !== 1000) setStatus(`Live stream closed (${event.code} ${event.reason}).`, true); } };
    $("live-start").hidden = true;
    $("live-stop").hidden = false;
  } catch (error) {
    setStatus(`No camera: ${error.message}`, true);
  }
}

function stopLive() {
  const live = state.live;
  state.live = null;
  if (live) {
    live.stream.getTracks().forEach((track) => track.stop());
    if (live.ws.readyState <= WebSocket.OPEN) live.ws.close(1000);
  }
  $("live-start").hidden = false;
  $("live-stop").hidden = true;
  $("fps").textContent = "";
}

$("file").addEventListener("change", (event) => choose(event.target.files[0]));
const drop = $("drop");
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  choose(event.dataTransfer.files[0]);
});
$("painting-file").addEventListener("change", (event) => choosePainting(event.target.files[0]));
$("model").addEventListener("change", () => { stopLive(); renderStyles(); optionsChanged(); });
$("strength").addEventListener("input", optionsChanged);
$("preserve-color").addEventListener("change", optionsChanged);
$("full").addEventListener("click", () => stylize(true));
$("live-start").addEventListener("click", startLive);
$("live-stop").addEventListener("click", stopLive);
$("api-key").addEventListener("change", () => {
  localStorage.setItem("stylenet-api-key", $("api-key").value);
  loadModels();
});
loadModels();
