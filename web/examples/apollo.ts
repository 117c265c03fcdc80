// Apollo Client 4 as in a browser (run on Node 20 with `ws` standing in for the browser's
// WebSocket: node-websocket.ts).
import "./node-websocket";
import { EMAIL, HTTP_URL, PASSWORD, show, showError } from "./plumbing";
import { logIn } from "./session";

await logIn(EMAIL, PASSWORD);

// README begin
import {
  ApolloClient,
  ApolloLink,
  CombinedGraphQLErrors,
  HttpLink,
  InMemoryCache,
  gql,
} from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { OperationTypeNode } from "graphql";
import { ApiError, freshAccessToken } from "./session";
import { wsClient } from "./ws-client";

const http = new SetContextLink(async () => ({
  headers: { authorization: `Bearer ${await freshAccessToken()}` },
})).concat(new HttpLink({ uri: HTTP_URL }));
const client = new ApolloClient({
  link: ApolloLink.split(
    ({ operationType }) => operationType === OperationTypeNode.SUBSCRIPTION,
    new GraphQLWsLink(wsClient),
    http,
  ),
  cache: new InMemoryCache(),
});

function showApolloError(error: unknown): void {
  if (CombinedGraphQLErrors.is(error)) {
    for (const { extensions, message } of error.errors) showError(extensions?.code, message);
  } else if (error instanceof ApiError) {
    showError(error.code, error.message); // freshAccessToken() failed: log in again
  } else {
    showError("NETWORK", String(error)); // a close graphql-ws does not retry, no server, …
  }
}

type Quote = { symbol: string; bid: string; ask: string; last: string; timestamp: string };
const LAST = gql`{ quotes(symbols: ["PETR4"]) { symbol last } }`;
const QUOTES = gql`subscription { quotes(symbols: ["PETR4", "AAPL"]) { symbol bid ask last timestamp } }`;

try {
  show((await client.query({ query: LAST })).data); // rejects on errors (errorPolicy "none")
} catch (error) {
  showApolloError(error);
}

client
  .subscribe<{ quotes: Quote }>({ query: QUOTES })
  .subscribe({
    next: ({ data, error }) => (error ? showApolloError(error) : show(data?.quotes)),
    error: showApolloError,
  });
// README end
