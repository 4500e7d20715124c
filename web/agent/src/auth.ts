// Sign-in with OpenID Connect: authorization code + PKCE through
// oidc-client-ts, against the local issuer or Cognito's hosted UI alike.
// The WebSocket token is the id_token (its aud is the app's client id).
import { ErrorResponse, User, UserManager } from 'oidc-client-ts';
import type { Config } from './config';

let manager: UserManager | null = null;
let config: Config | null = null;

/** The app's own URL, without query: the registered redirect and sign-out URI. */
export function appUrl(): string {
  const u = new URL('./', location.href);
  return u.origin + u.pathname;
}

export function setup(c: Config): UserManager {
  config = c;
  manager = new UserManager({
    authority: c.authority,
    client_id: c.clientId,
    redirect_uri: appUrl(),
    post_logout_redirect_uri: appUrl(),
    response_type: 'code',
    scope: 'openid profile',
    loadUserInfo: false,
    automaticSilentRenew: true, // with the refresh token, before the id_token expires
  });
  return manager;
}

export interface SignIn {
  user: User;
  /** the agent has just signed in (not a reload of a signed-in tab) */
  fresh: boolean;
}

/** Finishes a sign-in redirect or finds the stored user; null means a redirect to sign in has begun. */
export async function signIn(): Promise<SignIn | null> {
  const m = manager!;
  const q = new URLSearchParams(location.search);
  if (q.has('error')) {
    history.replaceState(null, '', appUrl());
    throw new Error(q.get('error_description') || q.get('error') || 'sign-in failed');
  }
  if (q.has('code') && q.has('state')) {
    const user = await m.signinRedirectCallback();
    history.replaceState(null, '', appUrl());
    return { user, fresh: true };
  }
  let user = await m.getUser();
  if (user && user.expired) user = await renew();
  if (!user) {
    await m.signinRedirect();
    return null;
  }
  return { user, fresh: false };
}

async function renew(): Promise<User | null> {
  try {
    return await manager!.signinSilent();
  } catch {
    return null;
  }
}

/** The id_token for a (re)connect, renewed when it is about to expire. */
export async function idToken(): Promise<string> {
  const m = manager!;
  let user = await m.getUser();
  if (!user || (user.expires_in ?? 0) < 60) {
    try {
      user = await m.signinSilent();
    } catch (e) {
      if (e instanceof ErrorResponse) {
        // The refresh was refused: only signing in again helps.
        await m.removeUser();
        await m.signinRedirect();
      }
      throw e;
    }
  }
  if (!user?.id_token) throw new Error('no id_token');
  return user.id_token;
}

/**
 * Signs out: forgets the tokens and ends the hosted UI's session at its
 * logout endpoint, which Cognito serves beside /oauth2/authorize (and
 * does not announce in discovery).
 */
export async function signOut(): Promise<void> {
  const m = manager!;
  await m.removeUser();
  const md = await m.metadataService.getAuthorizationEndpoint();
  const logout = new URL(md.replace(/\/oauth2\/authorize$/, '/logout'));
  logout.searchParams.set('client_id', config!.clientId);
  logout.searchParams.set('logout_uri', appUrl());
  location.assign(logout.toString());
}
