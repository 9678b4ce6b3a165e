/**
 * Verifies bearer JWTs (webhook deliveries from Teams, users' Entra tokens on the admin API).
 * Implemented by an adapter that fetches signing keys from OpenID metadata.
 */
export interface VerifiedToken {
  readonly issuer: string;
  readonly audience: string;
  readonly tenantId: string;
  /** Subject object id (`oid`) for user tokens, app id for app tokens. */
  readonly subject: string;
  /** App roles (`roles` claim) for user tokens. */
  readonly roles: readonly string[];
  readonly expiresAt: Date;
  readonly claims: Readonly<Record<string, unknown>>;
}

export type TokenVerification =
  | { readonly isValid: true; readonly token: VerifiedToken }
  | { readonly isValid: false; readonly reason: string };

export interface TokenVerifier {
  /** Never throws for a bad token: returns `isValid: false` with a log-safe reason. */
  verify(authorizationHeader: string | undefined): Promise<TokenVerification>;
}
