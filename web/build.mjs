// Bundles the browser pages into the Python package (tradegraph/web/static), so serving them
// needs no Node. Run with `npm run build` (or `make dashboard` from the project root).
import { build } from "esbuild";

const outRoot = new URL("../tradegraph/web/static/", import.meta.url).pathname;
const pages = {
  graphiql: "src/graphiql.tsx",
  dashboard: "src/dashboard.ts",
  // /widgets.js for host pages, and the /widgets builder page (which loads both).
  widgets: { widgets: "src/widgets.ts", builder: "src/widgets/builder.ts" },
};

for (const [name, entry] of Object.entries(pages)) {
  await build({
    entryPoints: typeof entry === "string" ? { [name]: entry } : entry,
    outdir: `${outRoot}${name}`,
    bundle: true,
    minify: true,
    format: "iife",
    target: "es2020",
    legalComments: "linked",
    loader: { ".woff": "dataurl", ".woff2": "dataurl", ".ttf": "dataurl", ".svg": "dataurl" },
    define: { "process.env.NODE_ENV": '"production"' },
    jsx: "automatic",
    logLevel: "warning",
  });
}
