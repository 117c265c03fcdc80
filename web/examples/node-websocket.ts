// Browser snippets run on Node 20 for the check: give them the `ws` package's WebSocket, as a
// browser would give its own. Imported first by the browser examples.
import WebSocket from "ws";

(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
