// The playground page: buttons and boxes wired to a worker (worker.js) that runs the Python.
// Every text from Python or the learner is shown with textContent, never parsed as HTML; the
// only markup inserted is Graphviz's SVG, made from DOT text whose labels to_dot escaped.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const here = new URL("./", document.currentScript.src).href;

  class Stopped extends Error {}

  // One worker and its pending calls; terminate() rejects them all with Stopped.
  class Engine {
    constructor() {
      this.worker = new Worker(here + "worker.js", { type: "module" });
      this.pending = new Map();
      this.next = 1;
      this.stopped = false;
      this.worker.onmessage = (e) => {
        const call = this.pending.get(e.data.id);
        if (!call) return;
        this.pending.delete(e.data.id);
        if (e.data.error !== undefined) call.reject(new Error(e.data.error));
        else call.resolve(e.data.result);
      };
      this.worker.onerror = (e) => {
        e.preventDefault();
        for (const call of this.pending.values()) call.reject(new Error(e.message));
        this.pending.clear();
      };
      this.ready = this.post("init");
    }
    // A call waits for the worker to be ready: a Draw pressed while Python still loads runs
    // once it has loaded.
    call(type, args) {
      return this.ready.then(() => this.post(type, args));
    }
    post(type, args) {
      if (this.stopped) return Promise.reject(new Stopped("stopped"));
      return new Promise((resolve, reject) => {
        const id = this.next++;
        this.pending.set(id, { resolve, reject });
        this.worker.postMessage({ id, type, args });
      });
    }
    terminate() {
      this.stopped = true;  // a call still waiting for `ready` is refused, not lost
      this.worker.terminate();
      for (const call of this.pending.values()) call.reject(new Stopped("stopped"));
      this.pending.clear();
    }
  }

  function text(el, value) { el.textContent = value == null ? "" : String(value); }
  function make(tag, value, cls) {
    const el = document.createElement(tag);
    if (value !== undefined) text(el, value);
    if (cls) el.className = cls;
    return el;
  }
  function internal(err) {
    console.error("playground: " + err.message);
    text($("pg-status"), "Something went wrong inside the playground: " + err.message);
  }

  // ------------------------------------------------------------------------------------------
  // The graph

  let engine = null;
  let frame = { index: 0, count: 0 };
  let busy = 0;

  function working(on) {
    busy += on ? 1 : -1;
    $("pg-stop").hidden = busy === 0;
    $("pg-draw").disabled = busy > 0;
  }

  function startEngine() {
    engine = new Engine();
    text($("pg-status"), "Loading Python (Pyodide) and the engine...");
    return engine.ready.then((info) => {
      text($("pg-status"), "Ready: Python and the engine loaded in " +
           (info.ms / 1000).toFixed(1) + " s.");
      // Since the page began to load: what benchmarks/playground_speed.py reads.
      document.body.dataset.pgReadyMs = performance.now().toFixed(0);
      document.body.dataset.pgPyodideMs = info.pyodideMs.toFixed(0);
      document.body.dataset.pgEngineMs = info.engineMs.toFixed(0);
      return info;
    });
  }

  function showError(field, message) {
    const box = field === "values" ? $("pg-values") : $("pg-expr");
    $("pg-expr").removeAttribute("aria-invalid");
    $("pg-values").removeAttribute("aria-invalid");
    box.setAttribute("aria-invalid", "true");
    text($("pg-error"), message);
    $("pg-error").hidden = false;
  }

  async function draw() {
    const expression = $("pg-expr").value, values = $("pg-values").value;
    const started = performance.now();
    working(true);
    try {
      const r = await engine.call("build", { expression, values });
      if (!r.ok) { showError(r.field, r.error); return; }
      $("pg-error").hidden = true;
      $("pg-expr").removeAttribute("aria-invalid");
      $("pg-values").removeAttribute("aria-invalid");
      showGraph(r);
      document.body.dataset.pgDrawMs = (performance.now() - started).toFixed(1);
    } catch (err) {
      if (!(err instanceof Stopped)) internal(err);
    } finally {
      working(false);
    }
  }

  function showGraph(r) {
    text($("pg-value"), r.name + " = " + r.value);
    const grads = $("pg-grads");
    grads.replaceChildren(...r.grads.map((g) => {
      const li = make("li");
      li.dataset.name = g.name;
      li.append(make("span", g.symbol + " = "),
                make("b", g.grad, "pg-grad"));
      return li;
    }));
    text($("pg-notice"), r.notice);
    $("pg-notice").hidden = !r.notice;
    $("pg-graph").innerHTML = r.svg;
    $("pg-edges").replaceChildren(...r.edges.map((e) => make("li", e.text)));
    const link = $("pg-share");
    link.href = r.query;
    text(link, new URL(r.query, location.href).href);
    history.replaceState(null, "", r.query);
    frame = { index: 0, count: r.steps + 2 };
    text($("pg-step-caption"), "Press next to run backward one edge at a time (" + r.steps +
         " steps).");
    text($("pg-step-count"), "");
    $("pg-step-graph").replaceChildren();
    buildQuestions(r.questions);
  }

  async function step(where) {
    const k = where === "first" ? 0 : where === "last" ? frame.count - 1
      : frame.index + (where === "next" ? 1 : -1);
    working(true);
    try {
      const r = await engine.call("frame", { index: k });
      if (!r.ok) { text($("pg-step-caption"), r.error); return; }
      frame = { index: r.index, count: r.count };
      text($("pg-step-caption"), r.caption);
      text($("pg-step-count"), (r.index + 1) + " / " + r.count);
      $("pg-step-graph").innerHTML = r.svg;
    } catch (err) {
      if (!(err instanceof Stopped)) internal(err);
    } finally {
      working(false);
    }
  }

  function stopEngine() {
    engine.terminate();
    text($("pg-error"), "Stopped. The Python worker was restarted; press Draw to draw again.");
    $("pg-error").hidden = false;
    startEngine().catch(internal);
  }

  // ------------------------------------------------------------------------------------------
  // Numbers worked out by hand

  function buildQuestions(questions) {
    const rows = questions.map((q) => {
      const row = make("tr");
      const input = make("input");
      input.type = "text";
      input.inputMode = "decimal";
      input.size = 8;
      input.dataset.key = q.key;
      input.setAttribute("aria-label", q.what);
      const cell = make("td");
      cell.append(input);
      row.append(make("td", q.what), make("td", q.key, "pg-key"), cell);
      return row;
    });
    $("pg-questions").replaceChildren(...rows);
    $("pg-check-result").replaceChildren();
  }

  async function check() {
    const answers = {};
    for (const input of $("pg-questions").querySelectorAll("input")) {
      answers[input.dataset.key] = input.value;
    }
    working(true);
    try {
      const r = await engine.call("check", { answers });
      const out = $("pg-check-result");
      if (!r.ok) { out.replaceChildren(make("p", r.error, "pg-bad")); return; }
      const table = make("table");
      const head = make("tr");
      for (const h of ["answer", "is", "yours", "right", "", "diagnosis"]) head.append(make("th", h));
      table.append(head);
      for (const row of r.rows) {
        const tr = make("tr", undefined, row.right ? "pg-right" : "pg-wrong");
        tr.dataset.key = row.key;
        const note = make("td");
        if (!row.right) note.append(make("b", row.diagnosis), make("span", ": " + row.message));
        tr.append(make("td", row.key, "pg-key"), make("td", row.what), make("td", row.given),
                  make("td", row.expected), make("td", row.right ? "right" : "wrong"), note);
        table.append(tr);
      }
      out.replaceChildren(make("p", r.summary), table);
    } catch (err) {
      if (!(err instanceof Stopped)) internal(err);
    } finally {
      working(false);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Training

  let trainer = null;
  let training = false;
  const COLORS = ["#3b6fd6", "#d6543b", "#2a9a4a", "#9a3bd6", "#d6a93b"];

  function drawBoundary(picture, grid) {
    const canvas = $("pg-boundary"), ctx = canvas.getContext("2d");
    const [x0, x1, y0, y1] = picture.box, w = canvas.width, h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    const n = grid.length;
    ctx.globalAlpha = 0.3;
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        ctx.fillStyle = COLORS[grid[r][c] % COLORS.length];
        ctx.fillRect(c * w / n, h - (r + 1) * h / n, w / n + 1, h / n + 1);
      }
    }
    ctx.globalAlpha = 1;
    picture.points.forEach((p, i) => {
      ctx.beginPath();
      ctx.arc((p[0] - x0) / (x1 - x0) * w, h - (p[1] - y0) / (y1 - y0) * h, 3.5, 0, 2 * Math.PI);
      ctx.fillStyle = COLORS[picture.labels[i] % COLORS.length];
      ctx.fill();
      ctx.strokeStyle = "#222";
      ctx.stroke();
    });
  }

  function drawLoss(losses) {
    const canvas = $("pg-loss"), ctx = canvas.getContext("2d");
    const w = canvas.width, h = canvas.height, pad = 8;
    ctx.clearRect(0, 0, w, h);
    ctx.strokeStyle = "#999";
    ctx.strokeRect(0.5, 0.5, w - 1, h - 1);
    if (losses.length < 1) return;
    const top = Math.max(...losses), n = Math.max(losses.length - 1, 1);
    ctx.beginPath();
    losses.forEach((v, i) => {
      const x = pad + i / n * (w - 2 * pad), y = h - pad - v / (top || 1) * (h - 2 * pad);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.strokeStyle = "#1f5fbf";
    ctx.lineWidth = 2;
    ctx.stroke();
    ctx.lineWidth = 1;
  }

  async function train() {
    if (training) return;
    training = true;
    $("pg-train").disabled = true;
    $("pg-train-stop").disabled = false;
    const status = $("pg-train-status");
    const epochs = parseInt($("pg-epochs").value, 10);
    const losses = [];
    let done = 0;
    try {
      if (trainer === null) {
        text(status, "Loading Python for training...");
        trainer = new Engine();
      }
      await trainer.ready;
      const picture = await trainer.call("train_start", {
        dataset: $("pg-dataset").value, hidden: $("pg-hidden").value,
        lr: parseFloat($("pg-lr").value), samples: parseInt($("pg-samples").value, 10),
        seed: 1,
      });
      if (!picture.ok) { text(status, picture.error); return; }
      if (!(epochs >= 1 && epochs <= 10000)) {
        text(status, "epochs must be a whole number from 1 to 10000");
        return;
      }
      drawBoundary(picture, picture.grid);
      drawLoss(losses);
      for (done = 0; done < epochs && training;) {
        const r = await trainer.call("train_epoch", { draw: true });
        if (!r.ok) { text(status, r.error); return; }
        done = r.epoch;
        losses.push(r.loss);
        drawLoss(losses);
        drawBoundary(picture, r.grid);
        $("pg-train-status").dataset.epoch = String(done);
        text(status, "epoch " + done + " of " + epochs + ": loss " + r.loss.toPrecision(4) +
             (r.accuracy == null ? "" : ", accuracy " + (100 * r.accuracy).toFixed(0) + "%"));
      }
    } catch (err) {
      if (!(err instanceof Stopped)) internal(err);
    } finally {
      training = false;
      $("pg-train").disabled = false;
      $("pg-train-stop").disabled = true;
    }
  }

  function stopTraining() {
    if (!training || trainer === null) return;
    trainer.terminate();
    trainer = null;
    training = false;
    const done = $("pg-train-status").dataset.epoch || "0";
    text($("pg-train-status"), "Stopped after " + done + " epochs.");
    $("pg-train-status").dataset.stopped = "yes";
  }

  // ------------------------------------------------------------------------------------------

  async function main() {
    if (location.protocol === "file:") {
      // Browsers start no worker for a page opened as a file.
      text($("pg-status"), "The playground runs only when the site is served over http: " +
           "`make docs-serve`, or `python -m http.server` in the built site's folder.");
      return;
    }
    $("pg-draw").addEventListener("click", draw);
    $("pg-form").addEventListener("submit", (e) => { e.preventDefault(); draw(); });
    $("pg-stop").addEventListener("click", stopEngine);
    for (const b of document.querySelectorAll("[data-step]")) {
      b.addEventListener("click", () => step(b.dataset.step));
    }
    $("pg-check").addEventListener("click", check);
    $("pg-train").addEventListener("click", train);
    $("pg-train-stop").addEventListener("click", stopTraining);
    working(true);
    try {
      const info = await startEngine();
      const picker = $("pg-example");
      picker.replaceChildren(make("option", "pick a textbook example..."),
        ...info.examples.examples.map((e) => {
          const o = make("option", e.title);
          o.value = e.title;
          return o;
        }));
      picker.addEventListener("change", () => {
        const e = info.examples.examples.find((x) => x.title === picker.value);
        if (!e) return;
        $("pg-expr").value = e.expression;
        $("pg-values").value = e.values;
        draw();
      });
      // The address is read as typed input: the same boxes, the same checks.
      const start = await engine.call("query", { query: location.search });
      $("pg-expr").value = start.expression;
      $("pg-values").value = start.values;
      const same = info.examples.examples.find((x) =>
        x.expression === start.expression && x.values === start.values);
      if (same) picker.value = same.title;
    } catch (err) {
      working(false);
      internal(err);
      return;
    }
    working(false);
    await draw();
  }

  // The worker's calls, for the browser's console and benchmarks/playground_speed.py.
  window.edgegradPlayground = { call: (type, args) => engine.call(type, args) };
  main();
})();
