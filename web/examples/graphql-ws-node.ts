// graphql-ws on Node 20, which has no global WebSocket: the `ws` package's.
import { EMAIL, PASSWORD, WS_URL, show, showError } from "./plumbing";
import { logIn } from "./session";

await logIn(EMAIL, PASSWORD);

// README begin
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { ApiError, freshAccessToken } from "./session";

const client = createClient({
  url: WS_URL,
  webSocketImpl: WebSocket,
  connectionParams: async () => ({ Authorization: `Bearer ${await freshAccessToken()}` }),
  retryAttempts: Infinity,
  shouldRetry: (error) => !(error instanceof ApiError),
});

const LAST = '{ quotes(symbols: ["PETR4"]) { symbol last } }';
const QUOTES = 'subscription { quotes(symbols: ["PETR4", "AAPL"]) { symbol bid ask last timestamp } }';

try {
  for await (const { data, errors } of client.iterate({ query: LAST })) {
    if (errors) showError(errors[0].extensions?.code, errors[0].message);
    else show(data);
  }
  for await (const result of client.iterate({ query: QUOTES })) {
    for (const error of result.errors ?? []) showError(error.extensions?.code, error.message);
    if (result.data) show(result.data.quotes);
  }
} catch (error) {
  // A close graphql-ws does not retry (a CloseEvent, e.g. 4429), an operation the server refused
  // (a list of GraphQL errors), or freshAccessToken()'s ApiError: log in again.
  if (error instanceof ApiError) showError(error.code, error.message);
  else if (Array.isArray(error)) showError(error[0].extensions?.code, error[0].message);
  else showError((error as CloseEvent).code, (error as CloseEvent).reason);
}
// README end
