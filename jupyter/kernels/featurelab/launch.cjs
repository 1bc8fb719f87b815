// Starts the featurelab kernel: tslab's TypeScript compiler and executor from this repository's
// node_modules, plus the display bridge featurelab uses to send whole MIME bundles.
"use strict";
const path = require("node:path");

const repo = path.resolve(__dirname, "..", "..", "..");
const connectionFile = process.argv[2];
if (!connectionFile) {
  console.error("usage: node launch.cjs <connection_file>");
  process.exit(2);
}

let tslabMain;
try {
  tslabMain = require.resolve("tslab/dist/main.js", { paths: [repo] });
} catch {
  console.error(`featurelab kernel: tslab is not installed under ${repo}; run \`npm install\` there`);
  process.exit(1);
}
const jupyter = require(path.join(path.dirname(tslabMain), "jupyter.js"));

// One display_data (or update_display_data) message with every MIME type of a bundle.
globalThis.__featurelab_kernel__ = {
  display(content, update) {
    if (typeof jupyter.lastWriteDisplayData !== "function") throw new Error("featurelab kernel: no cell is running");
    jupyter.lastWriteDisplayData(content, update);
  },
};

// A kernel whose client is gone has no one to serve: exit when the parent process dies.
const parent = Number(process.env.JPY_PARENT_PID);
if (parent > 1) {
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      process.exit(0);
    }
  }, 1000).unref();
}

require(tslabMain).startKernel({ configPath: connectionFile, enableFindLocal: false });
