// GraphiQL served by tradegraph itself: every asset comes from the server's own origin.
// Queries and mutations go over HTTP with the headers editor's headers; subscriptions go over
// graphql-transport-ws with the same headers as connectionParams (the server authenticates at
// connection_init), one client per distinct set of headers.
import { GraphiQL } from "graphiql";
import type { Fetcher, FetcherParams } from "@graphiql/toolkit";
import { createClient, type Client } from "graphql-ws";
import { parse, type ExecutionResult, type OperationDefinitionNode } from "graphql";
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

interface Operation {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  subscription: boolean;
}

// Read from the query text itself: GraphiQL's operationName and documentAST can lag behind an
// edit made just before pressing run.
function operation(params: FetcherParams): Operation {
  let definitions: OperationDefinitionNode[] = [];
  try {
    definitions = parse(params.query).definitions.filter(
      (d): d is OperationDefinitionNode => d.kind === "OperationDefinition",
    );
  } catch {
    // the server answers with the syntax error
  }
  const named = definitions.find((d) => d.name?.value === params.operationName);
  const chosen = named ?? (definitions.length === 1 ? definitions[0] : undefined);
  return {
    query: params.query,
    variables: params.variables ?? undefined,
    operationName: named ? params.operationName! : undefined,
    subscription: chosen?.operation === "subscription",
  };
}

async function* subscribe(
  request: Operation,
  headers: Record<string, unknown>,
): AsyncGenerator<ExecutionResult> {
  const { subscription: _, ...payload } = request;
  for await (const result of wsClient(headers).iterate(payload)) yield result as ExecutionResult;
}

const fetcher: Fetcher = (params, opts) => {
  const headers = (opts?.headers ?? {}) as Record<string, string>;
  const request = operation(params);
  if (request.subscription) return subscribe(request, headers);
  const { subscription: _, ...payload } = request;
  return fetch(httpUrl, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    body: JSON.stringify(payload),
  }).then((response) => response.json());
};

const defaultQuery = `# tradegraph: log in, then put the token in the Headers tab below as
#   {"Authorization": "Bearer <accessToken>"}
# Queries and mutations use it over HTTP; subscriptions send it in connection_init.
mutation Login {
  login(email: "admin@example.com", password: "…") { accessToken refreshToken }
}
`;

createRoot(document.getElementById("graphiql")!).render(
  <GraphiQL fetcher={fetcher} defaultQuery={defaultQuery} isHeadersEditorEnabled />,
);
