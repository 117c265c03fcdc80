// urql as in a browser (run on Node 20 with `ws` standing in for the browser's WebSocket:
// node-websocket.ts).
import "./node-websocket";
import { EMAIL, HTTP_URL, PASSWORD, show, showError } from "./plumbing";
import { logIn } from "./session";

await logIn(EMAIL, PASSWORD);

// README begin
import {
  Client,
  type CombinedError,
  cacheExchange,
  fetchExchange,
  subscriptionExchange,
} from "@urql/core";
import { ApiError, freshAccessToken } from "./session";
import { wsClient } from "./ws-client";

const client = new Client({
  url: HTTP_URL,
  // fetchOptions cannot wait for a token refresh; a fetch wrapper can.
  fetch: async (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set("authorization", `Bearer ${await freshAccessToken()}`);
    return fetch(input, { ...init, headers });
  },
  exchanges: [
    cacheExchange,
    fetchExchange,
    subscriptionExchange({
      forwardSubscription(request) {
        const input = { ...request, query: request.query || "" };
        return {
          subscribe(sink) {
            const unsubscribe = wsClient.subscribe(input, sink);
            return { unsubscribe };
          },
        };
      },
    }),
  ],
});

function showUrqlError(error: CombinedError): void {
  for (const { extensions, message } of error.graphQLErrors) showError(extensions?.code, message);
  const network = error.networkError;
  if (network instanceof ApiError) showError(network.code, network.message); // log in again
  else if (network) showError("NETWORK", network.message);
}

const LAST = '{ quotes(symbols: ["PETR4"]) { symbol last } }';
const QUOTES = 'subscription { quotes(symbols: ["PETR4", "AAPL"]) { symbol bid ask last timestamp } }';

const last = await client.query(LAST, {});
if (last.error) showUrqlError(last.error);
else show(last.data);

client
  .subscription(QUOTES, {})
  .subscribe(({ data, error }) => (error ? showUrqlError(error) : show(data?.quotes)));
// README end
