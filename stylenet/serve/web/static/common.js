// What both pages share: element lookup, the status line, and API calls with the optional key.
"use strict";

const $ = (id) => document.getElementById(id);

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

function apiKey() {
  return $("api-key").value || localStorage.getItem("stylenet-api-key") || "";
}

// fetch() with the API key; a 401 shows the key field, any other failure throws the server's
// one-line {"error": ...} message.
async function api(path, options = {}) {
  const key = apiKey();
  const headers = key ? { "X-API-Key": key } : {};
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) {
    $("key-row").hidden = false;
    throw new Error("This server needs an API key: enter it above.");
  }
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}
