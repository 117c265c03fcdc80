// GraphiQL served by tradegraph itself: every asset comes from the server's own origin.
// Queries and mutations go over HTTP with the headers editor's headers; subscriptions go over
// graphql-transport-ws with the same headers as connectionParams (the server authenticates at
// connection_init), one client per distinct set of headers.
import { GraphiQL } from "graphiql";
import type { Fetcher, FetcherOpts, FetcherParams } from "@graphiql/toolkit";
import { createClient, type Client } from "graphql-ws";
import type { ExecutionResult } from "graphql";
import { createRoot } from "react-dom/client";
import "graphiql/style.css";

const httpUrl = new URL("/graphql", location.href).toString();
const wsUrl = httpUrl.replace(/^http/, "ws");
const clients = new Map<string, Client>();

function wsClient(headers: Record<string, unknown>): Client {
  const key = JSON.stringify(headers);
  let client = clients.get(key);
  if (!client) {
    client = createClient({ url: wsUrl, connectionParams: headers, lazy: true });
    clients.set(key, client);
  }
  return client;
}

function isSubscription(params: FetcherParams, opts?: FetcherOpts): boolean {
  const ast = opts?.documentAST;
  if (!ast) return /^\s*subscription\b/.test(params.query);
  return ast.definitions.some(
    (d) =>
      d.kind === "OperationDefinition" &&
      d.operation === "subscription" &&
      (!params.operationName || d.name?.value === params.operationName),
  );
}

async function* subscribe(
  params: FetcherParams,
  headers: Record<string, unknown>,
): AsyncGenerator<ExecutionResult> {
  const iterator = wsClient(headers).iterate({
    query: params.query,
    variables: params.variables ?? undefined,
    operationName: params.operationName ?? undefined,
  });
  for await (const result of iterator) yield result as ExecutionResult;
}

const fetcher: Fetcher = (params, opts) => {
  const headers = (opts?.headers ?? {}) as Record<string, string>;
  if (isSubscription(params, opts)) return subscribe(params, headers);
  return fetch(httpUrl, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    body: JSON.stringify(params),
  }).then((response) => response.json());
};

const defaultHeaders = JSON.stringify({ Authorization: "Bearer <accessToken from login>" }, null, 2);

createRoot(document.getElementById("graphiql")!).render(
  <GraphiQL fetcher={fetcher} defaultHeaders={defaultHeaders} isHeadersEditorEnabled />,
);
