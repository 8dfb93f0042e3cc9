// The playground's worker: Pyodide running the project's own autograd and nn (edgegrad.zip,
// the same source files) through playground.py, and Graphviz (@viz-js/viz) laying out the DOT
// text Python writes. The page never waits on it: a long layout or training is stopped by
// terminating this worker and starting another. It is a module worker, as Pyodide requires;
// so Graphviz is @viz-js/viz's module build (viz.js), imported the first time it is needed.
import { loadPyodide } from "./pyodide.mjs";

const HOME = "/home/pyodide/edgegrad";
let pyodide = null;
let glue = null;
let viz = null;

async function init() {
  const started = performance.now();
  const base = new URL("./", self.location.href).href;
  // The sources download while Pyodide starts.
  const files = Promise.all([fetch(base + "edgegrad.zip"), fetch(base + "playground.py")]);
  pyodide = await loadPyodide({
    indexURL: base,
    // Python's output goes to the console as information, never as an error.
    stdout: (line) => console.log(line),
    stderr: (line) => console.warn(line),
  });
  const loaded = performance.now();
  const [zip, source] = await files;
  if (!zip.ok || !source.ok) throw new Error("the playground's files are missing from the site");
  pyodide.unpackArchive(await zip.arrayBuffer(), "zip", { extractDir: HOME });
  pyodide.FS.writeFile(HOME + "/playground.py", await source.text());
  pyodide.runPython(`import sys\nsys.path.insert(0, ${JSON.stringify(HOME)})\nimport playground`);
  glue = pyodide.pyimport("playground");
  const now = performance.now();
  return { ms: now - started, pyodideMs: loaded - started, engineMs: now - loaded,
           examples: JSON.parse(glue.examples()) };
}

async function svgOf(dot) {
  if (viz === null) viz = await (await import("./viz.js")).instance();
  const out = viz.render(dot, { format: "svg" });
  if (out.status !== "success") {
    throw new Error("Graphviz could not lay out the graph: " +
                    out.errors.map((e) => e.message).join("; "));
  }
  return out.output;
}

// Each call returns the glue's JSON reply, with the drawing rendered when there is one.
const calls = {
  init: init,
  async query(args) {
    return JSON.parse(glue.read_query_json(args.query));
  },
  async build(args) {
    const reply = JSON.parse(glue.build(args.expression, args.values));
    if (reply.ok) reply.svg = await svgOf(reply.dot);
    return reply;
  },
  async frame(args) {
    const reply = JSON.parse(glue.frame(args.index));
    if (reply.ok) reply.svg = await svgOf(reply.dot);
    return reply;
  },
  async check(args) {
    return JSON.parse(glue.check(JSON.stringify(args.answers)));
  },
  async train_start(args) {
    return JSON.parse(glue.train_start(args.dataset, args.hidden, args.lr, args.samples,
                                       args.seed));
  },
  async train_epoch(args) {
    return JSON.parse(glue.train_epoch(args.draw));
  },
  // For benchmarks/playground_speed.py: Python's own clock around one call, in milliseconds.
  async time(args) {
    return JSON.parse(glue.time_call(args.name, JSON.stringify(args.args || [])));
  },
};

self.onmessage = async (event) => {
  const { id, type, args } = event.data;
  try {
    const result = await calls[type](args || {});
    self.postMessage({ id, result });
  } catch (err) {
    self.postMessage({ id, error: String(err && err.message ? err.message : err) });
  }
};
