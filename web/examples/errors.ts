// The snippets' failure paths, which the other examples never take: a refused login is an
// ApiError carrying `extensions.code`, and when connectionParams cannot get a token the
// snippets' shouldRetry does not reconnect: the subscription ends with that ApiError.
import "./node-websocket";
import { EMAIL } from "./plumbing";
import { ApiError, logIn } from "./session";
import { wsClient } from "./ws-client";

function fail(message: string): never {
  console.error(`errors: ${message}`);
  process.exit(1);
}

async function failure(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  return fail("no error");
}

const refused = await failure(() => logIn(EMAIL, "not-the-password"));
if (!(refused instanceof ApiError) || refused.code !== "UNAUTHENTICATED") {
  fail(`a wrong password gave ${String(refused)}, not ApiError UNAUTHENTICATED`);
}

const closed = new Promise<number>((resolve) => {
  wsClient.on("closed", (event) => resolve((event as CloseEvent).code));
});
const ended = await failure(async () => {
  for await (const result of wsClient.iterate({ query: "{ __typename }" })) {
    fail(`a socket without a token answered ${JSON.stringify(result)}`);
  }
});
if (!(ended instanceof ApiError) || ended.code !== "UNAUTHENTICATED") {
  fail(`a socket without a token ended with ${String(ended)}, not ApiError UNAUTHENTICATED`);
}
const code = await closed;
if (code !== 4005) fail(`a socket without a token closed ${code}, not 4005`);

const summary = `wrong password: ${refused.code}; no token for the socket: ${ended.code}, close ${code}`;
console.log(`errors: ok (${summary})`);
process.exit(0);
