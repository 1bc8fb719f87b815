// The browser side of the live-widget test page: a Jupyter frontend reduced to what a notebook page
// does with a kernel and its widgets. It connects with @jupyterlab/services (the kernel connection
// JupyterLab uses), starts a "featurelab" kernel (or joins one: ?kernel=<id>, as a reopened tab does),
// and runs a widget manager the way JupyterLab's does — ipywidgets 8's manager (html-manager's
// HTMLManager over base-manager's ManagerBase) with comms on the live kernel: `jupyter.widget` comms
// the kernel opens become models, models the page makes open comms, and on connecting it opens
// `jupyter.widget.control` and restores every widget the kernel holds (ManagerBase._loadFromKernel).
// anywidget models (featurelab's FigureWidget) load through anywidget's AMD factory, as in
// widgets/offline-embed.js.
//
// window.live is the test's handle: run(code) executes a cell, renders its outputs into a new
// <div class="cell"> (widget views with the manager, else text/html, else text/plain; update_display_data
// re-renders the output with that display id) and resolves with the execute reply's status and what
// the cell returned. Bundled by test/display/live/harness.ts with esbuild; imports nothing from src/.
import * as base from "@jupyter-widgets/base";
import { HTMLManager } from "@jupyter-widgets/html-manager/lib/htmlmanager.js";
import { KernelManager, ServerConnection } from "@jupyterlab/services";
import { loadAnywidget } from "../../../widgets/anywidget-classes.js";

const WIDGET_VIEW = "application/vnd.jupyter.widget-view+json";

function loader(moduleName, moduleVersion) {
  if (moduleName === "anywidget") return loadAnywidget();
  return Promise.reject(new Error(`live page: no widget module ${moduleName}@${moduleVersion}`));
}

/** A widget manager on a live kernel, as JupyterLab's KernelWidgetManager is. */
class LiveWidgetManager extends HTMLManager {
  constructor(kernel) {
    super({ loader });
    this.kernel = kernel;
    kernel.registerCommTarget(this.comm_target_name, (comm, msg) => this.handle_comm_open(new base.shims.services.Comm(comm), msg));
  }

  async _create_comm(target, modelId, data, metadata, buffers) {
    const comm = this.kernel.createComm(target, modelId);
    // A comm for a model the kernel already has (restored state) is not opened again.
    if (data || metadata) comm.open(data, metadata, buffers);
    return new base.shims.services.Comm(comm);
  }

  async _get_comm_info() {
    const reply = await this.kernel.requestCommInfo({ target_name: this.comm_target_name });
    return reply.content.status === "ok" ? reply.content.comms : {};
  }
}

const params = new URLSearchParams(location.search);
const config = JSON.parse(document.getElementById("jupyter-config-data").textContent);
const settings = ServerConnection.makeSettings({
  baseUrl: new URL(config.baseUrl, location.origin).href,
  token: params.get("token") ?? "",
  appendToken: true,
});

const cells = document.getElementById("cells");
/** display id → the output elements showing it. */
const displays = new Map();
let cellCount = 0;

async function renderInto(el, data, manager) {
  el.replaceChildren();
  const view = data[WIDGET_VIEW];
  if (view && manager.has_model(view.model_id)) {
    const model = await manager.get_model(view.model_id);
    const v = await manager.create_view(model);
    await manager.display_view(v, el);
    el.dataset.widget = view.model_id;
  } else if (data["text/html"] !== undefined) {
    // As a trusted output: its scripts run.
    el.append(document.createRange().createContextualFragment(String(data["text/html"])));
  } else if (data["text/plain"] !== undefined) {
    const pre = document.createElement("pre");
    pre.textContent = String(data["text/plain"]);
    el.append(pre);
  }
}

function outputArea(cell, kind) {
  const el = document.createElement("div");
  el.className = `output ${kind}`;
  cell.append(el);
  return el;
}

async function main() {
  const kernels = new KernelManager({ serverSettings: settings });
  await kernels.ready;
  const id = params.get("kernel");
  const kernel = id ? kernels.connectTo({ model: { id, name: "featurelab" } }) : await kernels.startNew({ name: "featurelab" });
  await kernel.info; // connected, and the kernel answered kernel_info
  const manager = new LiveWidgetManager(kernel);
  // Open jupyter.widget.control and restore whatever widgets the kernel has (none in a new kernel).
  await manager._loadFromKernel();

  /** Execute `code` as a cell; resolves with the reply's status, the cell's index and its results. */
  function run(code) {
    const index = cellCount++;
    const cell = document.createElement("div");
    cell.className = "cell";
    cell.dataset.cell = String(index);
    cells.append(cell);
    const results = [];
    const errors = [];
    const streams = [];
    const rendering = [];
    const future = kernel.requestExecute({ code, stop_on_error: true, store_history: true });
    future.onIOPub = (msg) => {
      const type = msg.header.msg_type;
      const c = msg.content;
      if (type === "display_data" || type === "execute_result") {
        const el = outputArea(cell, type);
        const displayId = c.transient?.display_id;
        if (displayId) {
          el.dataset.displayId = displayId;
          if (!displays.has(displayId)) displays.set(displayId, []);
          displays.get(displayId).push(el);
        }
        if (type === "execute_result") results.push(String(c.data["text/plain"] ?? ""));
        rendering.push(renderInto(el, c.data, manager));
      } else if (type === "update_display_data") {
        for (const el of displays.get(c.transient?.display_id) ?? []) rendering.push(renderInto(el, c.data, manager));
      } else if (type === "stream") {
        streams.push(c.text);
        const pre = document.createElement("pre");
        pre.className = `output stream ${c.name}`;
        pre.textContent = c.text;
        cell.append(pre);
      } else if (type === "error") {
        errors.push(`${c.ename}: ${c.evalue}`);
        const pre = outputArea(cell, "error");
        pre.textContent = `${c.ename}: ${c.evalue}`;
      }
    };
    return future.done.then(async (reply) => {
      await Promise.all(rendering);
      cell.dataset.status = reply.content.status;
      return { status: reply.content.status, cell: index, results, errors, streams };
    });
  }

  window.live = {
    kernel,
    manager,
    run,
    /** Interrupt the kernel (as the toolbar's stop button does). */
    interrupt: () => kernel.interrupt(),
    /** Shut the kernel down through the server's API. */
    shutdown: () => kernel.shutdown(),
  };
  document.body.dataset.ready = "";
}

main().catch((err) => {
  console.error("live page: could not connect:", err);
  document.body.dataset.failed = String(err?.message ?? err);
});
