import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { TokenVerifier } from '../domain/token-verifier';
import { forbidden, unauthorized } from './problem';

/** Admin API authorisation: a valid Entra token whose `roles` contain the admin role. */
export interface AdminAuthorizer {
  /** Undefined when allowed; otherwise the 401/403 response to send. */
  authorize(request: HttpRequest): Promise<HttpResponseInit | undefined>;
}

export function createAdminAuthorizer(verifier: TokenVerifier, requiredRole: string): AdminAuthorizer {
  return {
    async authorize(request) {
      const result = await verifier.verify(request.headers.get('authorization') ?? undefined);
      if (!result.isValid) return unauthorized();
      return result.token.roles.includes(requiredRole) ? undefined : forbidden();
    },
  };
}
