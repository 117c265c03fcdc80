// The signed-in user's tokens, kept in localStorage, with refresh-token rotation: every
// refresh spends the refresh token and stores the new pair the server returns.
import { GraphQLFailure, post } from "./graphql";

export type Role = "ADMIN" | "ANALYST" | "TRADER";
export interface User {
  id: string;
  email: string;
  role: Role;
}
interface Stored {
  accessToken: string;
  refreshToken: string;
  expiresAt: number; // epoch ms
  refreshAt: number; // epoch ms: EARLY_MS before expiry, or half-way for short-lived tokens
  user: User;
}
interface AuthPayload {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: User;
}

const KEY = "tradegraph.session";
const EARLY_MS = 30_000; // refresh this long before the access token expires
const PAYLOAD = "accessToken refreshToken expiresIn user { id email role }";
const LOGIN = `mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { ${PAYLOAD} } }`;
const REGISTER = `mutation($email: String!, $password: String!) {
  register(input: { email: $email, password: $password }) { ${PAYLOAD} } }`;
const REFRESH = `mutation($refreshToken: String!) {
  refreshToken(refreshToken: $refreshToken) { ${PAYLOAD} } }`;

export class Session {
  private stored: Stored | null;
  private refreshing: Promise<string> | null = null;
  onSignedOut: () => void = () => {};

  constructor() {
    const raw = localStorage.getItem(KEY);
    this.stored = raw ? (JSON.parse(raw) as Stored) : null;
  }

  get user(): User | null {
    return this.stored?.user ?? null;
  }

  async login(email: string, password: string): Promise<void> {
    const data = await post<{ login: AuthPayload }>(LOGIN, { email, password });
    this.keep(data.login);
  }

  async register(email: string, password: string): Promise<void> {
    const data = await post<{ register: AuthPayload }>(REGISTER, { email, password });
    this.keep(data.register);
  }

  logout(): void {
    this.stored = null;
    localStorage.removeItem(KEY);
    this.onSignedOut();
  }

  /** A valid access token, refreshed (and the refresh token rotated) when close to expiry. */
  async accessToken(forceRefresh = false): Promise<string> {
    if (!this.stored) throw new GraphQLFailure("UNAUTHENTICATED", "log in first");
    if (!forceRefresh && Date.now() < this.stored.refreshAt) {
      return this.stored.accessToken;
    }
    this.refreshing ??= this.refresh().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async refresh(): Promise<string> {
    try {
      const refreshToken = this.stored!.refreshToken;
      const data = await post<{ refreshToken: AuthPayload }>(REFRESH, { refreshToken });
      return this.keep(data.refreshToken);
    } catch (error) {
      if (error instanceof GraphQLFailure && error.code !== "NETWORK") this.logout();
      throw error;
    }
  }

  private keep(payload: AuthPayload): string {
    const lifetime = payload.expiresIn * 1000;
    this.stored = {
      accessToken: payload.accessToken,
      refreshToken: payload.refreshToken,
      expiresAt: Date.now() + lifetime,
      refreshAt: Date.now() + lifetime - Math.min(EARLY_MS, lifetime / 2),
      user: payload.user,
    };
    localStorage.setItem(KEY, JSON.stringify(this.stored));
    return payload.accessToken;
  }
}
