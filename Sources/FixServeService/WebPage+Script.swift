extension WebPage {
    /// Plain JavaScript, no libraries. Everything the server sends is inserted as text, never as
    /// HTML. The event stream is read with fetch rather than EventSource, which cannot send an
    /// Authorization header.
    static let scriptText = #"""
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const count = new Intl.NumberFormat("en");
  const keyStorage = "fixserve-api-key";
  let apiKey = "";
  try { apiKey = sessionStorage.getItem(keyStorage) || ""; } catch (_) { /* storage may be disabled */ }

  class APIError extends Error {
    constructor(message, status) { super(message); this.status = status; }
  }

  /// fetch with the API key, turning `{"error": …}` answers into exceptions.
  async function api(path, options = {}) {
    const headers = new Headers(options.headers || {});
    if (apiKey) headers.set("authorization", "Bearer " + apiKey);
    const response = await fetch(path, { ...options, headers });
    if (!response.ok) {
      let message = `${response.status} ${response.statusText}`.trim();
      try { const body = await response.json(); if (body && body.error) message = body.error; } catch (_) { /* not JSON */ }
      if (response.status === 401 || response.status === 403) {
        message = "The server needs a valid API key: enter it at the top of the page. (" + message + ")";
      }
      throw new APIError(message, response.status);
    }
    return response;
  }

  function say(id, text, isError = false) {
    const element = $(id);
    element.textContent = text;
    element.classList.toggle("error", isError);
  }

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function cell(row, text, className) { const td = element("td", text, className); row.append(td); return td; }

  function percent(value, digits = 1) { return (value * 100).toFixed(digits) + "%"; }

  // ---- Models ------------------------------------------------------------------------------

  async function loadModels() {
    say("models-status", "Loading models…");
    try {
      const list = (await (await api("/v1/models")).json()).models;
      const infos = await Promise.all(list.map((model) =>
        api("/v1/models/" + encodeURIComponent(model.name)).then((r) => r.json()).catch(() => model)));
      renderModels(infos);
      fillModelChoice(infos);
      say("models-status", infos.length === 1 ? "1 model" : `${infos.length} models`);
    } catch (error) {
      say("models-status", "Could not load the models: " + error.message, true);
    }
  }

  function renderModels(infos) {
    const body = $("models").tBodies[0];
    body.replaceChildren();
    for (const info of infos) {
      const row = document.createElement("tr");
      const name = element("th", info.name);
      name.scope = "row";
      if (info.served_version !== undefined) name.append(element("div", `serving v${info.served_version}`, "hint"));
      row.append(name);
      const versions = element("ul", null, "versions");
      for (const version of info.versions || []) {
        const item = element("li", `v${version.version} `);
        item.append(element("span", version.state, "state-" + version.state));
        if (version.reason || version.error) item.title = version.reason || version.error;
        versions.append(item);
      }
      if (!(info.versions || []).length) versions.append(element("li", info.state, "state-" + info.state));
      cell(row).append(versions);
      const head = info.head;
      if (head) {
        const fixed = head.type !== "learned";
        cell(row, `${head.type} (${fixed ? "fixed" : "learned"}), ${head.features}→${head.classes}`);
        // A learned head has no α and no fixed matrix whose rows could be coherent.
        cell(row, fixed ? Number(head.alpha).toPrecision(4) + (head.alpha_learned ? " learned" : " fixed") : "—", "number");
        cell(row, fixed ? Number(head.coherence).toFixed(3) : "—", "number");
        const parameters = info.parameters;
        const parametersCell = cell(row, count.format(parameters.total), "number");
        parametersCell.append(element("div", `head ${count.format(parameters.head)}`, "hint"));
        const saved = head.learned_head_bytes - head.stored_bytes;
        const savedCell = cell(row, saved > 0 ? `${count.format(saved)} B` : "0 B", "number");
        savedCell.append(element("div", `stores ${count.format(head.stored_bytes)} of ${count.format(head.learned_head_bytes)} B`, "hint"));
        const accuracy = info.model_card && info.model_card.metrics && info.model_card.metrics.test_accuracy;
        cell(row, typeof accuracy === "number" ? percent(accuracy, 2) : "—", "number");
      } else {
        const none = cell(row, info.error || "no version is being served");
        none.colSpan = 6;
      }
      body.append(row);
    }
  }

  function fillModelChoice(infos) {
    const select = $("classify-model");
    const previous = select.value;
    select.replaceChildren();
    const ready = infos.filter((info) => info.head);
    for (const info of ready) {
      const option = element("option", `${info.name} (v${info.served_version}, ${info.head.type})`);
      option.value = info.name;
      select.append(option);
    }
    const names = ready.map((info) => info.name);
    select.value = names.includes(previous) ? previous : (names.includes("fashion-mnist") ? "fashion-mnist" : (names[0] || ""));
  }

  // ---- Classify ----------------------------------------------------------------------------

  let previewURL = null;

  async function classify(file) {
    const model = $("classify-model").value;
    if (!model) { say("classify-status", "No model is ready to classify with.", true); return; }
    if (file.type && !/^image\/(png|jpeg)$/.test(file.type)) {
      say("classify-status", `${file.name} is ${file.type}; choose a PNG or JPEG image.`, true);
      return;
    }
    if (previewURL) URL.revokeObjectURL(previewURL);
    previewURL = URL.createObjectURL(file);
    $("prediction-image").src = previewURL;
    $("prediction-image").alt = "The image being classified: " + file.name;
    $("prediction-caption").textContent = file.name;
    $("prediction-bars").replaceChildren();
    $("prediction").hidden = false;
    say("classify-status", `Classifying ${file.name} with ${model}…`);
    try {
      const response = await api("/predictions/" + encodeURIComponent(model), {
        method: "POST", headers: { "content-type": file.type || "application/octet-stream" }, body: file,
      });
      const top = Object.entries(await response.json()).sort((a, b) => b[1] - a[1]);
      const bars = $("prediction-bars");
      for (const [label, probability] of top) {
        const item = element("li");
        item.dataset.label = label;
        item.append(element("span", label, "name"));
        const track = element("span", null, "track");
        track.setAttribute("aria-hidden", "true");
        const fill = element("span", null, "fill");
        fill.style.display = "block";
        fill.style.width = Math.max(0, Math.min(100, probability * 100)).toFixed(2) + "%";
        track.append(fill);
        item.append(track, element("span", percent(probability), "value"));
        bars.append(item);
      }
      say("classify-status", top.length ? `${file.name}: most likely ${top[0][0]} (${percent(top[0][1])})` : "No classes returned.");
    } catch (error) {
      say("classify-status", `Could not classify ${file.name}: ${error.message}`, true);
    }
  }

  function setUpDropZone() {
    const zone = $("drop-zone"), input = $("image-file");
    input.addEventListener("change", () => { if (input.files.length) classify(input.files[0]); input.value = ""; });
    for (const type of ["dragenter", "dragover"]) {
      zone.addEventListener(type, (event) => { event.preventDefault(); zone.classList.add("over"); });
    }
    for (const type of ["dragleave", "dragend"]) zone.addEventListener(type, () => zone.classList.remove("over"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      const file = event.dataTransfer && event.dataTransfer.files[0];
      if (file) classify(file);
    });
    // A file dropped beside the zone must not replace the page.
    window.addEventListener("dragover", (event) => event.preventDefault());
    window.addEventListener("drop", (event) => event.preventDefault());
  }

  // ---- Charts ------------------------------------------------------------------------------

  const curves = { epochs: 1, points: [] };

  function resetCurves(epochs) {
    curves.epochs = epochs;
    curves.points = [];
    drawCharts();
  }

  function addPoint(progress) {
    const x = progress.epoch - 1 + (progress.samples_per_epoch > 0 ? progress.samples / progress.samples_per_epoch : 0);
    const last = curves.points[curves.points.length - 1];
    const endOfEpoch = progress.samples === progress.samples_per_epoch;
    const point = {
      x, loss: progress.train_loss, accuracy: progress.train_accuracy,
      test: endOfEpoch && typeof progress.test_accuracy === "number" ? progress.test_accuracy : null,
    };
    if (last && last.x === x) curves.points[curves.points.length - 1] = point; else curves.points.push(point);
    curves.epochs = progress.epochs;
    drawCharts();
  }

  function drawCharts() {
    const points = curves.points;
    const maxLoss = Math.max(0.5, ...points.map((p) => p.loss).filter(Number.isFinite));
    drawChart($("loss-chart"), [{ values: points.map((p) => [p.x, p.loss]), color: "--bar" }],
      { yMax: maxLoss * 1.1, format: (v) => v.toFixed(2) });
    drawChart($("accuracy-chart"), [
      { values: points.map((p) => [p.x, p.accuracy]), color: "--bar" },
      { values: points.filter((p) => p.test !== null).map((p) => [p.x, p.test]), color: "--test" },
    ], { yMax: 1, format: (v) => Math.round(v * 100) + "%" });
    const last = points[points.length - 1];
    const loss = $("loss-chart"), accuracy = $("accuracy-chart");
    loss.dataset.points = accuracy.dataset.points = String(points.length);
    if (last) {
      const at = `after ${last.x.toFixed(2)} of ${curves.epochs} epochs`;
      loss.setAttribute("aria-label", `Training loss: ${points.length} points, ${last.loss.toFixed(3)} ${at}`);
      const tests = points.filter((p) => p.test !== null);
      accuracy.setAttribute("aria-label", `Accuracy: training ${percent(last.accuracy)} ${at}` +
        (tests.length ? `, test ${percent(tests[tests.length - 1].test)}` : ""));
    } else {
      loss.setAttribute("aria-label", "Training loss: no data yet");
      accuracy.setAttribute("aria-label", "Accuracy: no data yet");
    }
  }

  function drawChart(canvas, series, { yMax, format }) {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(200, canvas.clientWidth || 480), height = Math.round(width * 220 / 480);
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const g = canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    const style = getComputedStyle(document.documentElement);
    const colour = (name) => style.getPropertyValue(name).trim() || "#000";
    const left = 44, right = 12, top = 10, bottom = 28;
    const plotW = width - left - right, plotH = height - top - bottom;
    const X = (x) => left + (x / curves.epochs) * plotW, Y = (y) => top + plotH - (y / yMax) * plotH;
    g.clearRect(0, 0, width, height);
    g.font = "12px system-ui, sans-serif";
    g.lineWidth = 1;
    g.strokeStyle = colour("--line");
    g.fillStyle = colour("--muted");
    g.textAlign = "right";
    g.textBaseline = "middle";
    for (let i = 0; i <= 4; i++) {
      const y = (yMax * i) / 4;
      g.beginPath(); g.moveTo(left, Y(y)); g.lineTo(width - right, Y(y)); g.stroke();
      g.fillText(format(y), left - 6, Y(y));
    }
    g.textAlign = "center";
    g.textBaseline = "top";
    const step = Math.max(1, Math.ceil(curves.epochs / 10));
    for (let e = 0; e <= curves.epochs; e += step) g.fillText(String(e), X(e), top + plotH + 6);
    for (const { values, color } of series) {
      g.strokeStyle = g.fillStyle = colour(color);
      g.lineWidth = 2;
      g.beginPath();
      values.forEach(([x, y], i) => (i ? g.lineTo(X(x), Y(y)) : g.moveTo(X(x), Y(y))));
      g.stroke();
      for (const [x, y] of values) { g.beginPath(); g.arc(X(x), Y(y), 3, 0, 2 * Math.PI); g.fill(); }
    }
  }

  // ---- Training ----------------------------------------------------------------------------

  let following = null;

  async function startTraining(event) {
    event.preventDefault();
    const form = $("train-form");
    if (!form.reportValidity()) return;
    const request = {
      model: $("train-model").value.trim(),
      backbone: $("train-backbone").value,
      head: $("train-head").value,
      epochs: parseInt($("train-epochs").value, 10),
    };
    const limit = $("train-limit").value.trim();
    if (limit) request.training_limit = parseInt(limit, 10);
    const button = $("train-submit");
    button.disabled = true;
    say("train-status", `Submitting a job for ${request.model}…`);
    try {
      const job = await (await api("/v1/training/jobs", {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(request),
      })).json();
      resetCurves(request.epochs);
      say("train-status", `Job ${shortID(job.id)} is ${job.state}.`);
      loadJobs();
      follow(job.id);
    } catch (error) {
      say("train-status", "Could not start the training: " + error.message, true);
    } finally {
      button.disabled = false;
    }
  }

  /// Reads the job's server-sent events until its final state.
  async function follow(id) {
    if (following) following.abort();
    const controller = new AbortController();
    following = controller;
    let last = null;
    try {
      const response = await api(`/v1/training/jobs/${encodeURIComponent(id)}/events`, {
        headers: { accept: "text/event-stream" }, signal: controller.signal,
      });
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trimStart()).join("\n");
          if (data) { last = JSON.parse(data); showJob(last); }
        }
      }
      if (!last || !isFinal(last.state)) showJob(await (await api(`/v1/training/jobs/${encodeURIComponent(id)}`)).json());
    } catch (error) {
      if (error.name !== "AbortError") say("train-status", `Lost job ${shortID(id)}'s events: ${error.message}`, true);
    } finally {
      if (following === controller) following = null;
    }
  }

  function showJob(job) {
    if (job.progress) addPoint(job.progress);
    const p = job.progress;
    let text = `Job ${shortID(job.id)} (${job.request.model}) is ${job.state}`;
    if (p && job.state === "running") {
      text += `: epoch ${p.epoch} of ${p.epochs}, loss ${p.train_loss.toFixed(3)}, training accuracy ${percent(p.train_accuracy)}`;
      if (typeof p.test_accuracy === "number") text += `, test accuracy ${percent(p.test_accuracy)}`;
    }
    if (job.state === "succeeded") text += `: stored as ${job.result}` + (p && typeof p.test_accuracy === "number" ? `, test accuracy ${percent(p.test_accuracy)}` : "");
    if (job.state === "failed") text += `: ${job.error}`;
    say("train-status", text + ".", job.state === "failed");
    $("train-status").dataset.state = job.state;
    updateJobRow(job);
    if (isFinal(job.state)) { loadJobs(); if (job.state === "succeeded") showTrainedModel(job.result); }
  }

  /// The repository picks a new version up on its next scan: ask again, a few times, until it serves.
  async function showTrainedModel(result, attempt = 0) {
    const [name, version] = String(result).split("/");
    await loadModels();
    const row = [...$("models").tBodies[0].rows].find((r) => r.cells[0].firstChild.textContent === name);
    const served = row && row.cells[0].textContent.includes(`serving v${version}`);
    if (!served && attempt < 10) setTimeout(() => showTrainedModel(result, attempt + 1), 1500);
  }

  // ---- Jobs --------------------------------------------------------------------------------

  const isFinal = (state) => state === "succeeded" || state === "failed" || state === "cancelled";
  const shortID = (id) => id.slice(0, 8);
  let jobsTimer = null;
  let lookedForRunningJob = false;

  async function loadJobs() {
    clearTimeout(jobsTimer);
    try {
      const jobs = (await (await api("/v1/training/jobs")).json()).jobs;
      const body = $("jobs").tBodies[0];
      body.replaceChildren(...jobs.slice().reverse().map(jobRow));
      say("jobs-status", jobs.length ? "" : "No training jobs yet.");
      // A page opened while a job runs draws that job's curves.
      const running = jobs.find((job) => job.state === "running");
      if (!lookedForRunningJob && !following && running) { resetCurves(running.request.epochs); follow(running.id); }
      lookedForRunningJob = true;
      // Only while a job can still change: a page left open on finished jobs asks nothing.
      if (jobs.some((job) => !isFinal(job.state))) jobsTimer = setTimeout(loadJobs, 2000);
    } catch (error) {
      say("jobs-status", "Could not load the jobs: " + error.message, true);
    }
  }

  function jobRow(job) {
    const row = document.createElement("tr");
    row.dataset.job = job.id;
    row.dataset.state = job.state;
    const id = element("th", shortID(job.id), "mono");
    id.scope = "row";
    id.title = job.id;
    row.append(id);
    cell(row, job.request.model);
    cell(row, `${job.request.head}, ${job.request.backbone}`);
    cell(row, job.state, "state-" + job.state);
    const p = job.progress;
    cell(row, p ? `epoch ${p.epoch}/${p.epochs}` + (typeof p.test_accuracy === "number" ? `, test ${percent(p.test_accuracy)}` : "") : "—");
    cell(row, job.result || job.error || "—");
    const actions = cell(row);
    if (!isFinal(job.state)) {
      const button = element("button", job.stop_requested ? "Stopping…" : "Cancel", "secondary");
      button.type = "button";
      button.disabled = !!job.stop_requested;
      button.setAttribute("aria-label", `Cancel job ${shortID(job.id)} (${job.request.model})`);
      button.addEventListener("click", () => cancel(job, button));
      actions.append(button);
    }
    return row;
  }

  function updateJobRow(job) {
    const row = $("jobs").querySelector(`tr[data-job="${CSS.escape(job.id)}"]`);
    if (!row) return;
    const hadFocus = row.contains(document.activeElement);
    const replacement = jobRow(job);
    row.replaceWith(replacement);
    if (hadFocus) (replacement.querySelector("button") || $("refresh-jobs")).focus();
  }

  async function cancel(job, button) {
    button.disabled = true;
    try {
      const updated = await (await api(`/v1/training/jobs/${encodeURIComponent(job.id)}`, { method: "DELETE" })).json();
      say("jobs-status", `Job ${shortID(job.id)} ${isFinal(updated.state) ? "is " + updated.state : "is stopping"}.`);
      updateJobRow(updated);
    } catch (error) {
      say("jobs-status", `Could not cancel job ${shortID(job.id)}: ${error.message}`, true);
    }
    loadJobs();
  }

  // ---- Start -------------------------------------------------------------------------------

  function start() {
    const key = $("api-key");
    key.value = apiKey;
    key.addEventListener("change", () => {
      apiKey = key.value.trim();
      try { if (apiKey) sessionStorage.setItem(keyStorage, apiKey); else sessionStorage.removeItem(keyStorage); } catch (_) { /* disabled */ }
      loadModels();
      loadJobs();
    });
    $("key-form").addEventListener("submit", (event) => { event.preventDefault(); key.dispatchEvent(new Event("change")); });
    $("refresh-models").addEventListener("click", loadModels);
    $("refresh-jobs").addEventListener("click", loadJobs);
    $("train-form").addEventListener("submit", startTraining);
    setUpDropZone();
    window.addEventListener("resize", drawCharts);
    drawCharts();
    loadModels();
    loadJobs();
  }

  start();
})();
"""#
}
