// What the widgets use: authenticated queries (one retry after a refresh when the server says
// UNAUTHENTICATED) and subscriptions on one shared WebSocket.
import type { Client } from "graphql-ws";
import { GraphQLFailure, post, socket, subscribe } from "./graphql";
import type { Session } from "./session";

export class Api {
  readonly ws: Client;

  constructor(
    readonly session: Session,
    onSocketState: (state: string) => void,
  ) {
    this.ws = socket(() => session.accessToken(), onSocketState);
  }

  async query<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    try {
      return await post<T>(query, variables, await this.session.accessToken());
    } catch (error) {
      if (!(error instanceof GraphQLFailure) || error.code !== "UNAUTHENTICATED") throw error;
      return post<T>(query, variables, await this.session.accessToken(true));
    }
  }

  subscribe<T>(
    query: string,
    variables: Record<string, unknown>,
    next: (data: T) => void,
    fail: (error: GraphQLFailure) => void,
  ): () => void {
    return subscribe(this.ws, query, variables, next, fail);
  }

  close(): void {
    void this.ws.dispose();
  }
}
