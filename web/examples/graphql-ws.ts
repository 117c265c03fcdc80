// Plain graphql-ws as in a browser (run on Node 20 with `ws` standing in for the browser's
// WebSocket: node-websocket.ts).
import "./node-websocket";
import { EMAIL, PASSWORD, show, showError } from "./plumbing";
import { logIn } from "./session";

await logIn(EMAIL, PASSWORD);

// README begin
import { ApiError } from "./session";
import { wsClient } from "./ws-client";

const LAST = '{ quotes(symbols: ["PETR4"]) { symbol last } }';
const QUOTES = 'subscription { quotes(symbols: ["PETR4", "AAPL"]) { symbol bid ask last timestamp } }';

try {
  // Queries can use the socket too: this loop ends after the one result.
  for await (const { data, errors } of wsClient.iterate({ query: LAST })) {
    if (errors) showError(errors[0].extensions?.code, errors[0].message);
    else show(data);
  }
  for await (const result of wsClient.iterate({ query: QUOTES })) {
    // SUBSCRIBER_TOO_SLOW or STREAM_INTERRUPTED end the subscription: query what you missed,
    // then subscribe again.
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
