/**
 * Sign-in with Entra ID (authorization code + PKCE) through MSAL. The same code signs in against
 * the local Teams simulator's Entra. Roles shown come from the ID token and only decide what the
 * page offers; the admin API decides what is allowed.
 */
import {
  createStandardPublicClientApplication,
  InteractionRequiredAuthError,
  type AccountInfo,
} from '@azure/msal-browser';

export interface PortalSettings {
  readonly clientId: string;
  readonly authority: string;
  readonly scopes: readonly string[];
}

export const BASE_PATH = '/api/portal/';

export interface Session {
  readonly account: AccountInfo;
  readonly roles: readonly string[];
  getToken(): Promise<string>;
  signOut(): Promise<void>;
}

export type Role = 'operator' | 'admin' | 'complianceOfficer' | 'auditor' | 'supervisor';

/** `Attest.ComplianceOfficer` or `complianceOfficer`, any case, as the server reads them. */
export function rolesOf(account: AccountInfo): Role[] {
  const claims = (account.idTokenClaims ?? {}) as { roles?: unknown };
  const raw = Array.isArray(claims.roles) ? claims.roles : [];
  const known: Role[] = ['operator', 'admin', 'complianceOfficer', 'auditor', 'supervisor'];
  return known.filter((role) =>
    raw.some(
      (r) =>
        typeof r === 'string' && r.replace(/^attest\./i, '').toLowerCase() === role.toLowerCase(),
    ),
  );
}

/** Settles the redirect coming back from sign-in; undefined when nobody is signed in yet. */
export async function startAuth(settings: PortalSettings): Promise<{
  readonly session: Session | undefined;
  signIn(): Promise<void>;
}> {
  const redirectUri = `${window.location.origin}${BASE_PATH}`;
  const msal = await createStandardPublicClientApplication({
    auth: {
      clientId: settings.clientId,
      authority: settings.authority,
      knownAuthorities: [new URL(settings.authority).host],
      redirectUri,
      postLogoutRedirectUri: redirectUri,
    },
    cache: { cacheLocation: 'sessionStorage' },
  });
  const result = await msal.handleRedirectPromise();
  if (result?.account) msal.setActiveAccount(result.account);
  // Back where the user was before signing in (carried in `state`).
  if (result?.state?.startsWith(BASE_PATH) && result.state !== window.location.pathname)
    window.history.replaceState(null, '', result.state);
  const account = msal.getActiveAccount() ?? msal.getAllAccounts()[0];
  const scopes = [...settings.scopes];
  const signIn = () =>
    msal.loginRedirect({
      scopes,
      state: window.location.pathname + window.location.search,
      prompt: 'select_account',
    });
  if (account === undefined) return { session: undefined, signIn };
  msal.setActiveAccount(account);
  return {
    signIn,
    session: {
      account,
      roles: rolesOf(account),
      async getToken() {
        try {
          return (await msal.acquireTokenSilent({ scopes, account })).accessToken;
        } catch (error) {
          if (error instanceof InteractionRequiredAuthError) {
            await msal.acquireTokenRedirect({ scopes, account });
          }
          throw error;
        }
      },
      signOut: () => msal.logoutRedirect({ account }),
    },
  };
}
