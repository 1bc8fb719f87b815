// Starts the featurelab kernel (src/kernel, compiled to dist/kernel) of the repository this
// kernelspec sits in: a Jupyter kernel for TypeScript built on tslab's compiler and executor.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { pathToFileURL } = require("node:url");

const repo = path.resolve(__dirname, "..", "..", "..");
const connectionFile = process.argv[2];
if (!connectionFile) {
  console.error("usage: node launch.cjs <connection_file>");
  process.exit(2);
}
const main = path.join(repo, "dist", "kernel", "main.js");
if (!fs.existsSync(main)) {
  console.error(`featurelab kernel: ${main} is missing; run \`npm install\` (or \`npm run build\`) in ${repo}`);
  process.exit(1);
}
// TypeScript starts loading in its own thread first, while the rest of the kernel loads.
import(pathToFileURL(path.join(repo, "dist", "kernel", "compiler.js")).href)
  .then(({ Compiler }) => new Compiler())
  .then((compiler) => import(pathToFileURL(main).href).then((kernel) => kernel.start(connectionFile, compiler)))
  .catch((err) => {
    console.error("featurelab kernel: failed to start:", err);
    process.exit(1);
  });
