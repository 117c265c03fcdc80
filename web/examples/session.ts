import { HTTP_URL } from "./plumbing";

// README begin
type Tokens = { accessToken: string; refreshToken: string; expiresAt: number };
const TOKENS = "accessToken refreshToken expiresIn";
let tokens: Tokens | undefined;
let refreshing: Promise<void> | undefined;

export class ApiError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

async function post(query: string, variables: object): Promise<any> {
  const response = await fetch(HTTP_URL, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const { data, errors } = await response.json();
  if (errors?.length) throw new ApiError(errors[0].extensions?.code, errors[0].message);
  return data;
}

function keep(payload: { accessToken: string; refreshToken: string; expiresIn: number }): void {
  tokens = { ...payload, expiresAt: Date.now() + payload.expiresIn * 1000 };
}

export async function logIn(email: string, password: string): Promise<void> {
  const mutation = `mutation($email: String!, $password: String!) {
    login(email: $email, password: $password) { ${TOKENS} } }`;
  keep((await post(mutation, { email, password })).login);
}

/** The access token, refreshed first when it expires within 30 s; one refresh at a time,
 * since each refresh token is spent once. */
export async function freshAccessToken(): Promise<string> {
  if (!tokens) throw new ApiError("UNAUTHENTICATED", "log in first");
  if (Date.now() > tokens.expiresAt - 30_000) {
    const mutation = `mutation($token: String!) {
      refreshToken(refreshToken: $token) { ${TOKENS} } }`;
    refreshing ??= post(mutation, { token: tokens.refreshToken })
      .then((data) => keep(data.refreshToken))
      .finally(() => (refreshing = undefined));
    await refreshing;
  }
  return tokens.accessToken;
}
// README end
