// graphflow's extension for the official ComfyUI front end (loaded as an ES module from /api/extensions).
//
// The front end opens its built-in default graph on a fresh browser. That graph is built for a model
// family graphflow does not run, so before the first workflow is opened (extension `setup` runs before the
// editor restores or creates a workflow) this replaces the built-in default with graphflow's own
// workflows/txt2img_editor.json, served by graphflow as /templates/txt2img_editor.json. "New" and
// "Load Default" then open the same graph. A user's own open workflows are restored as usual.
import { app } from "/scripts/app.js";
import { api } from "/scripts/api.js";

const DEFAULT_TEMPLATE = "txt2img_editor";

async function replaceDefaultGraph() {
  const builtIn = window.comfyAPI?.defaultGraph?.defaultGraph;
  if (!builtIn) {
    console.warn("graphflow: this front end has no default graph to replace");
    return;
  }
  const response = await fetch(api.fileURL(`/templates/${DEFAULT_TEMPLATE}.json`), { cache: "no-cache" });
  if (!response.ok) {
    console.warn(`graphflow: default workflow unavailable (${response.status})`);
    return;
  }
  const workflow = await response.json();
  for (const key of Object.keys(builtIn)) delete builtIn[key];
  Object.assign(builtIn, workflow);
}

app.registerExtension({
  name: "graphflow.DefaultWorkflow",
  async setup() {
    await replaceDefaultGraph();
  },
});
