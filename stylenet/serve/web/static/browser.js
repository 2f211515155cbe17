// In-browser stylization with onnxruntime-web: fetch the model's ONNX file from the server,
// run it here (WebGPU where available, else WASM). window.stylenetBrowser is the test hook.
"use strict";

const ORT_BASE = "/static/ort/";
const INSTALL = "npm ci --prefix stylenet/serve/web";
const sessions = new Map(); // model name → Promise<InferenceSession>
const page = { models: [], backend: null };

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.append(script);
  });
}

// WebGPU when the browser has an adapter (and ?backend=wasm does not force WASM).
async function chooseBackend() {
  const forced = new URLSearchParams(location.search).get("backend");
  if (forced === "wasm") return "wasm";
  if (navigator.gpu) {
    try { if (await navigator.gpu.requestAdapter()) return "webgpu"; } catch (_) { /* none */ }
  }
  return "wasm";
}

async function loadRuntime() {
  const backend = await chooseBackend();
  const bundle = backend === "webgpu" ? "ort.webgpu.min.js" : "ort.wasm.min.js";
  const probe = await fetch(ORT_BASE + bundle);
  if (!probe.ok) {
    let detail = `install them with: ${INSTALL}`;
    try { detail = (await probe.json()).error; } catch (_) { /* not JSON */ }
    const message = `onnxruntime-web is not installed on this server: ${detail}`;
    $("missing").textContent = message;
    $("missing").hidden = false;
    throw new Error(message);
  }
  await loadScript(ORT_BASE + bundle);
  window.ort.env.wasm.wasmPaths = ORT_BASE;
  window.ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  page.backend = backend;
  return backend;
}

function session(name) {
  if (!sessions.has(name)) {
    const model = page.models.find((m) => m.name === name);
    if (!model) throw new Error(`no model named ${name}`);
    const providers = page.backend === "webgpu" ? ["webgpu", "wasm"] : ["wasm"];
    sessions.set(name, (async () => {
      const bytes = await (await api(model.onnx_url)).arrayBuffer();
      return window.ort.InferenceSession.create(bytes, { executionProviders: providers });
    })());
  }
  return sessions.get(name);
}

// NCHW float32 pixels (0-255) → NCHW float32 stylized (0-255); `weights`: S numbers or null.
async function runPixels(name, pixels, height, width, weights) {
  const model = page.models.find((m) => m.name === name);
  const s = await session(name);
  const feeds = { image: new window.ort.Tensor("float32", Float32Array.from(pixels), [1, 3, height, width]) };
  if (s.inputNames.includes("style_weights")) {
    const row = weights || model.styles.map((_, i) => (i === 0 ? 1 : 0));
    const total = row.reduce((a, b) => a + b, 0);
    feeds.style_weights = new window.ort.Tensor("float32", Float32Array.from(row.map((w) => w / total)), [1, row.length]);
  }
  const results = await s.run(feeds);
  return results[s.outputNames[0]].data;
}

function toPlanes(rgba, count) {
  const planes = new Float32Array(3 * count);
  for (let i = 0; i < count; i++) {
    planes[i] = rgba[4 * i];
    planes[count + i] = rgba[4 * i + 1];
    planes[2 * count + i] = rgba[4 * i + 2];
  }
  return planes;
}

function weightsFromSliders() {
  const sliders = [...document.querySelectorAll("input.blend")];
  if (!sliders.length) return null;
  const row = sliders.map((s) => Number(s.value));
  if (!row.some((w) => w > 0)) throw new Error("Give at least one style a weight above 0.");
  return row;
}

async function stylizePhoto() {
  const photo = $("photo");
  const side = Math.max(32, Number($("side").value) || 512);
  const scale = Math.min(1, side / Math.max(photo.naturalWidth, photo.naturalHeight));
  const width = Math.max(32, Math.round(photo.naturalWidth * scale));
  const height = Math.max(32, Math.round(photo.naturalHeight * scale));
  const canvas = $("output");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  context.drawImage(photo, 0, 0, width, height);
  const input = context.getImageData(0, 0, width, height);
  const count = width * height;
  try {
    setStatus(`Stylizing ${width}×${height} with ${page.backend}…`);
    const started = performance.now();
    const out = await runPixels($("model").value, toPlanes(input.data, count), height, width, weightsFromSliders());
    const ms = performance.now() - started;
    const strength = Number($("strength").value) / 100;
    const pixels = context.createImageData(width, height);
    for (let i = 0; i < count; i++) {
      for (let c = 0; c < 3; c++) {
        const photoValue = input.data[4 * i + c];
        pixels.data[4 * i + c] = photoValue + strength * (out[c * count + i] - photoValue);
      }
      pixels.data[4 * i + 3] = 255;
    }
    context.putImageData(pixels, 0, 0);
    canvas.dataset.runs = String(Number(canvas.dataset.runs) + 1);
    $("output-caption").textContent = `Stylized in the browser (${page.backend}, ${Math.round(ms)} ms)`;
    setStatus(`Done in ${Math.round(ms)} ms (${page.backend}).`);
  } catch (error) {
    setStatus(error.message, true);
  }
}

function renderStyles() {
  const box = $("styles");
  box.innerHTML = "";
  const model = page.models.find((m) => m.name === $("model").value);
  if (!model || !model.multi_style) return;
  model.styles.forEach((name, index) => {
    const label = document.createElement("label");
    label.innerHTML = `<span></span><input type="range" min="0" max="100" class="blend">`;
    label.querySelector("span").textContent = name.replaceAll("_", " ");
    const slider = label.querySelector("input");
    slider.dataset.style = name;
    slider.value = index === 0 ? 100 : 0;
    box.append(label);
  });
}

async function start() {
  try {
    const response = await api("/v1/models");
    page.models = (await response.json()).models.filter((m) => m.onnx_url);
    $("model").innerHTML = page.models.map((m) => `<option value="${m.name}">${m.name}</option>`).join("");
    renderStyles();
    const backend = await loadRuntime();
    $("run").disabled = !$("photo").src;
    setStatus(`onnxruntime-web ready (${backend}). Choose a photo.`);
    document.body.dataset.ready = "true";
  } catch (error) {
    setStatus(error.message, true);
    document.body.dataset.ready = "false";
  }
}

// Test and benchmark hook: run a model on given pixels, or time it.
window.stylenetBrowser = {
  runPixels: async (name, pixels, height, width, weights) => Array.from(await runPixels(name, pixels, height, width, weights)),
  timeModel: async (name, height, width, repeats) => {
    const pixels = new Float32Array(3 * height * width).map((_, i) => (i * 37) % 256);
    await runPixels(name, pixels, height, width, null); // warm-up
    const times = [];
    for (let i = 0; i < repeats; i++) {
      const started = performance.now();
      await runPixels(name, pixels, height, width, null);
      times.push(performance.now() - started);
    }
    return times;
  },
  backend: () => page.backend,
};

$("file").addEventListener("change", (event) => {
  const file = event.target.files[0];
  if (!file) return;
  $("photo").onload = () => { $("run").disabled = !page.backend; stylizePhoto(); };
  $("photo").src = URL.createObjectURL(file);
});
$("model").addEventListener("change", renderStyles);
$("strength").addEventListener("input", () => { $("strength-value").textContent = (Number($("strength").value) / 100).toFixed(2); });
$("run").addEventListener("click", stylizePhoto);
$("api-key").addEventListener("change", () => { localStorage.setItem("stylenet-api-key", $("api-key").value); start(); });
start();
