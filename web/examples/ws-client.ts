import { WS_URL } from "./plumbing";

// README begin
import { createClient } from "graphql-ws";
import { ApiError, freshAccessToken } from "./session";

export const wsClient = createClient({
  url: WS_URL,
  connectionParams: async () => ({ Authorization: `Bearer ${await freshAccessToken()}` }),
  retryAttempts: Infinity,
  // Reconnect after any drop or close (a browser reports a lost network as an error event),
  // but not when freshAccessToken() failed: that needs a new login.
  shouldRetry: (error) => !(error instanceof ApiError),
});
// README end
