// GraphQL over HTTP (queries, mutations) and graphql-transport-ws (subscriptions). Errors are
// GraphQLFailure with the server's `extensions.code`, so the page can show it.
import { createClient, type Client } from "graphql-ws";

export const HTTP_URL = new URL("/graphql", location.href).toString();
export const WS_URL = HTTP_URL.replace(/^http/, "ws");

interface WireError {
  message: string;
  extensions?: { code?: string };
}

export class GraphQLFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  static from(errors: readonly WireError[]): GraphQLFailure {
    const first = errors[0];
    return new GraphQLFailure(first?.extensions?.code ?? "ERROR", first?.message ?? "failed");
  }
}

/** One operation over HTTP; `token` adds the Authorization header. */
export async function post<T>(
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<T> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(HTTP_URL, {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new GraphQLFailure("NETWORK", "the server cannot be reached");
  }
  const body = (await response.json()) as { data?: T; errors?: WireError[]; error?: WireError };
  if (body.errors?.length) throw GraphQLFailure.from(body.errors);
  if (body.error) throw GraphQLFailure.from([body.error]);
  if (!body.data) throw new GraphQLFailure(`HTTP_${response.status}`, response.statusText);
  return body.data;
}

/** A WebSocket client whose connection_init always carries a fresh access token: the
 * function runs again on every reconnect (e.g. after the server closes 4403 "token expired"). */
export function socket(token: () => Promise<string>, onState: (state: string) => void): Client {
  return createClient({
    url: WS_URL,
    lazy: true,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    connectionParams: async () => ({ Authorization: `Bearer ${await token()}` }),
    on: {
      connected: () => onState("live"),
      closed: (event) => {
        const close = event as CloseEvent;
        onState(`reconnecting (closed ${close.code}${close.reason ? `: ${close.reason}` : ""})`);
      },
    },
  });
}

/** Runs a subscription until `stop()` is called; errors arrive as GraphQLFailure. */
export function subscribe<T>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  next: (data: T) => void,
  fail: (error: GraphQLFailure) => void,
): () => void {
  return client.subscribe<T>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors?.length) fail(GraphQLFailure.from(result.errors as WireError[]));
        else if (result.data) next(result.data as T);
      },
      error: (error) => {
        if (Array.isArray(error)) fail(GraphQLFailure.from(error as WireError[]));
        else if (error instanceof GraphQLFailure) fail(error);
        else {
          const close = error as Partial<CloseEvent>;
          fail(new GraphQLFailure(`CLOSED_${close.code ?? "?"}`, close.reason || "socket closed"));
        }
      },
      complete: () => {},
    },
  );
}
