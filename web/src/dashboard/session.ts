// The signed-in user's session. The refresh token never reaches this code: the server keeps it
// in an HttpOnly, SameSite=Strict cookie sent only to /auth (POST /auth/refresh rotates it,
// POST /auth/logout revokes its family). The access token lives in memory only; localStorage
// keeps just who is signed in (no secret), so a reload restores the session by one refresh.
import { GraphQLFailure, post } from "./graphql";

export type Role = "ADMIN" | "ANALYST" | "TRADER";
export interface User {
  id: string;
  email: string;
  role: Role;
}
interface AccessGrant {
  accessToken: string;
  expiresIn: number;
  user: User;
}
interface WireError {
  code?: string;
  message?: string;
}

const KEY = "tradegraph.session";
const EARLY_MS = 30_000; // refresh this long before the access token expires
// refreshToken is not asked for: the cookie carries it, out of reach of page scripts.
const PAYLOAD = "accessToken expiresIn user { id email role }";
const LOGIN = `mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { ${PAYLOAD} } }`;
const REGISTER = `mutation($email: String!, $password: String!) {
  register(input: { email: $email, password: $password }) { ${PAYLOAD} } }`;

/** POST to one of the session endpoints (same origin: the cookie goes along). */
async function sessionCall<T>(path: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, { method: "POST", credentials: "same-origin" });
  } catch {
    throw new GraphQLFailure("NETWORK", "the server cannot be reached");
  }
  const body = (await response.json()) as T & { error?: WireError };
  if (body.error) {
    throw new GraphQLFailure(body.error.code ?? `HTTP_${response.status}`, body.error.message ?? "");
  }
  return body;
}

export class Session {
  private signedIn: User | null;
  private token: string | null = null;
  private refreshAt = 0; // epoch ms: EARLY_MS before expiry, or half-way for short-lived tokens
  private refreshing: Promise<string> | null = null;
  onSignedOut: () => void = () => {};

  constructor() {
    const raw = localStorage.getItem(KEY);
    const stored = raw ? (JSON.parse(raw) as { user?: User; refreshToken?: unknown }) : null;
    // A session stored by an older dashboard held tokens: drop it, sign in again.
    this.signedIn = stored && !("refreshToken" in stored) ? (stored.user ?? null) : null;
    if (!this.signedIn) localStorage.removeItem(KEY);
  }

  get user(): User | null {
    return this.signedIn;
  }

  async login(email: string, password: string): Promise<void> {
    const data = await post<{ login: AccessGrant }>(LOGIN, { email, password });
    this.keep(data.login);
  }

  async register(email: string, password: string): Promise<void> {
    const data = await post<{ register: AccessGrant }>(REGISTER, { email, password });
    this.keep(data.register);
  }

  /** Signs out here at once; the server revokes the session's refresh family meanwhile. */
  logout(): void {
    void sessionCall("/auth/logout").catch(() => {});
    this.forget();
  }

  /** A valid access token, refreshed (and the refresh cookie rotated) when close to expiry. */
  async accessToken(forceRefresh = false): Promise<string> {
    if (!this.signedIn) throw new GraphQLFailure("UNAUTHENTICATED", "log in first");
    if (!forceRefresh && this.token && Date.now() < this.refreshAt) return this.token;
    this.refreshing ??= this.refresh().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async refresh(): Promise<string> {
    try {
      return this.keep(await sessionCall<AccessGrant>("/auth/refresh"));
    } catch (error) {
      if (error instanceof GraphQLFailure && error.code !== "NETWORK") this.forget();
      throw error;
    }
  }

  private keep(grant: AccessGrant): string {
    const lifetime = grant.expiresIn * 1000;
    this.token = grant.accessToken;
    this.refreshAt = Date.now() + lifetime - Math.min(EARLY_MS, lifetime / 2);
    this.signedIn = grant.user;
    localStorage.setItem(KEY, JSON.stringify({ user: grant.user }));
    return grant.accessToken;
  }

  private forget(): void {
    this.signedIn = null;
    this.token = null;
    localStorage.removeItem(KEY);
    this.onSignedOut();
  }
}
