// `npm run examples` (or `make examples` from the project root): checks that the snippets of
// docs/graphql/frontend-clients.md are the code between `// README begin` and `// README end`
// in these files (named when the snippets were in the README), compiles the examples with
// esbuild, and runs each on Node against a tradegraph server. Each must log in, show a query
// result and three quotes (the latest of each symbol, then at least one live), and exit 0;
// errors.ts checks the failure paths.
//
// The page writes the server's address as "http://127.0.0.1:8000/graphql" and
// "ws://127.0.0.1:8000/graphql"; the files write HTTP_URL and WS_URL instead (plumbing.ts).
// With TRADEGRAPH_URL set (…/graphql) the examples use that server; otherwise this starts
// `.venv/bin/tradegraph serve --seed --port 0` (in memory, its own admin) and stops it after.
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const EXAMPLES = ["graphql-ws", "apollo", "urql", "graphql-ws-node", "errors"];
const SNIPPETS = ["session", "ws-client", ...EXAMPLES.filter((name) => name !== "errors")];
const URLS = [
  ['"http://127.0.0.1:8000/graphql"', "HTTP_URL"],
  ['"ws://127.0.0.1:8000/graphql"', "WS_URL"],
];

const PAGE = "docs/graphql/frontend-clients.md";

function checkReadme() {
  const readme = readFileSync(join(root, PAGE), "utf8");
  const blocks = new Map();
  for (const [, name, code] of readme.matchAll(/<!-- web\/examples\/([\w-]+)\.ts -->\n```\w+\n(.*?)```/gs)) {
    blocks.set(name, URLS.reduce((text, [literal, name]) => text.replaceAll(literal, name), code));
  }
  const problems = [];
  for (const name of SNIPPETS) {
    const source = readFileSync(join(here, `${name}.ts`), "utf8");
    const region = source.match(/\/\/ README begin\n(.*?)\/\/ README end\n/s)?.[1];
    if (region === undefined) problems.push(`${name}.ts has no "// README begin/end" region`);
    else if (!blocks.has(name)) problems.push(`${PAGE} has no block for web/examples/${name}.ts`);
    else if (blocks.get(name) !== region) problems.push(`${PAGE}'s web/examples/${name}.ts block differs from the file`);
  }
  for (const name of blocks.keys()) {
    if (!SNIPPETS.includes(name)) problems.push(`${PAGE} shows web/examples/${name}.ts, which is not run`);
  }
  if (problems.length) throw new Error(problems.join("\n"));
  console.log(`${PAGE}: ${SNIPPETS.length} snippets match web/examples`);
}

/** Starts a seeded server on a free port; resolves with it and its GraphQL URL once listening. */
function startServer() {
  const env = {
    ...process.env,
    TRADEGRAPH_DATA_DIR: "",
    TRADEGRAPH_LOG_FORMAT: "json",
    TRADEGRAPH_ADMIN_EMAIL: "admin@example.com",
    TRADEGRAPH_ADMIN_PASSWORD: "change-me-now",
    // Shorter than the snippets' 30 s margin: every token is refreshed before use.
    TRADEGRAPH_ACCESS_TOKEN_TTL_SECONDS: "25",
    // The examples read quotes, not history: one day of bars instead of the default month.
    TRADEGRAPH_SEED_HISTORY_DAYS: "1",
  };
  const tradegraph = join(root, ".venv", "bin", "tradegraph");
  const server = spawn(tradegraph, ["serve", "--seed", "--port", "0"], { env, stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => fail(new Error("no 'listening' within 300 s")), 300_000);
    const fail = (error) => {
      clearTimeout(timer);
      server.kill();
      reject(new Error(`${error.message}\n${log.slice(-2000)}`));
    };
    const reader = () => {
      let pending = "";
      return (chunk) => {
        log += chunk;
        const lines = (pending + chunk).split(/[\r\n]/);
        pending = lines.pop();
        for (const line of lines.filter((line) => line.startsWith("{"))) {
          let entry;
          try {
            entry = JSON.parse(line);
          } catch {
            continue;
          }
          if (entry.event === "listening") {
            clearTimeout(timer);
            server.removeAllListeners("exit");
            for (const stream of [server.stdout, server.stderr]) stream.removeAllListeners("data").resume();
            resolve({ server, url: entry.graphql });
          }
        }
      };
    };
    server.stdout.setEncoding("utf8").on("data", reader());
    server.stderr.setEncoding("utf8").on("data", reader());
    server.on("error", fail);
    server.on("exit", (code) => fail(new Error(`the server exited (${code})`)));
  });
}

/** SIGTERM, then waits for the graceful shutdown (SIGKILL after 30 s). */
function stopServer(server) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.kill("SIGKILL"), 30_000);
    server.on("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    server.kill("SIGTERM");
  });
}

function runExample(name, url) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(here, ".out", `${name}.mjs`)], {
      env: { ...process.env, TRADEGRAPH_URL: url },
      stdio: "inherit",
    });
    const timer = setTimeout(() => child.kill(), 60_000);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(code === 0 ? null : `${name}: exit ${code ?? signal}`);
    });
  });
}

checkReadme();
await build({
  entryPoints: EXAMPLES.map((name) => join(here, `${name}.ts`)),
  outdir: join(here, ".out"),
  outExtension: { ".js": ".mjs" },
  bundle: true,
  packages: "external", // resolved from web/node_modules at run time
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
});
const OTHERS = ["plumbing.ts", "node-websocket.ts", "errors.ts"];
for (const file of readdirSync(here)) {
  if (file.endsWith(".ts") && !SNIPPETS.includes(file.slice(0, -3)) && !OTHERS.includes(file)) {
    throw new Error(`web/examples/${file} is neither a README snippet nor known plumbing`);
  }
}

let running;
let url = process.env.TRADEGRAPH_URL;
if (!url) {
  console.log("starting tradegraph serve --seed --port 0 (seeding takes a few seconds)…");
  running = await startServer();
  url = running.url;
  console.log(`server at ${url}`);
}
const failures = [];
try {
  for (const name of EXAMPLES) {
    const failure = await runExample(name, url);
    if (failure) failures.push(failure);
  }
} finally {
  if (running) await stopServer(running.server);
}
if (failures.length) {
  console.error(`failed: ${failures.join("; ")}`);
  process.exit(1);
}
console.log(`all ${EXAMPLES.length} examples ran`);
