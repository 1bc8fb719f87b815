// `npm run demo`: install what is missing, execute notebooks/quickstart.ipynb headless with the
// featurelab kernel into out/quickstart.ipynb, export a self-contained out/quickstart.html.
import { setup, root } from "./setup.mjs";
import { exportNotebook } from "./export.mjs";
import { join } from "node:path";

try {
  setup();
  const { ipynb, html } = await exportNotebook(join(root, "notebooks", "quickstart.ipynb"), join(root, "out"));
  console.log(`\nexecuted notebook: ${ipynb}\nHTML report:       ${html}`);
} catch (err) {
  console.error(`featurelab demo: ${err.message}`);
  process.exit(1);
}
