// What the kernel says about itself in kernel_info_reply (shell and control channels).
import { createRequire } from "node:module";
import { PROTOCOL_VERSION } from "./wire.js";

const require = createRequire(import.meta.url);

function version(pkg: string, from?: string): string {
  try {
    const req = from ? createRequire(require.resolve(from)) : require;
    return (req(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

let info: Record<string, unknown> | undefined;

export function kernelInfo(): Record<string, unknown> {
  if (info) return info;
  const own = (require("../../package.json") as { version: string }).version;
  const typescript = version("@tslab/typescript-for-tslab", "tslab/dist/converter.js");
  info = {
    status: "ok",
    protocol_version: PROTOCOL_VERSION,
    implementation: "featurelab",
    implementation_version: own,
    language_info: {
      name: "typescript",
      version: typescript,
      mimetype: "text/typescript",
      file_extension: ".ts",
      pygments_lexer: "typescript",
      // JupyterLab reads `mode`, the classic notebook `name` + `typescript` (as tslab found).
      codemirror_mode: { mode: "typescript", name: "javascript", typescript: true },
    },
    banner: `featurelab ${own} — TypeScript ${typescript} on Node.js ${process.version} (compiler and executor from tslab ${version("tslab")})`,
    help_links: [
      { text: "TypeScript handbook", url: "https://www.typescriptlang.org/docs/handbook/intro.html" },
      { text: "Node.js API", url: "https://nodejs.org/api/" },
    ],
    // The Jupyter debug protocol (debugger.ts): JupyterLab shows its debugger panel for kernels that say so.
    debugger: true,
  };
  return info;
}
