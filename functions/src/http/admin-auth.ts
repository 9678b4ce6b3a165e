import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { TokenVerifier } from '../domain/token-verifier';
import { forbidden, unauthorized } from './problem';

/** The outcome of checking an admin request: the caller's tenant, or the 401/403 to send. */
export type AdminCheck =
  | { readonly isAllowed: true; readonly tenantId: string }
  | { readonly isAllowed: false; readonly response: HttpResponseInit };

/** Admin API authorisation: a valid Entra token whose `roles` contain the admin role. */
export interface AdminAuthorizer {
  /** Undefined when allowed; otherwise the 401/403 response to send. */
  authorize(request: HttpRequest): Promise<HttpResponseInit | undefined>;
  /** Like {@link authorize}, and tells the caller's tenant (call data is shown within it only). */
  check(request: HttpRequest): Promise<AdminCheck>;
}

export function createAdminAuthorizer(
  verifier: TokenVerifier,
  requiredRole: string,
): AdminAuthorizer {
  const check = async (request: HttpRequest): Promise<AdminCheck> => {
    const result = await verifier.verify(request.headers.get('authorization') ?? undefined);
    if (!result.isValid) return { isAllowed: false, response: unauthorized() };
    if (!result.token.roles.includes(requiredRole))
      return { isAllowed: false, response: forbidden() };
    return { isAllowed: true, tenantId: result.token.tenantId };
  };
  return {
    check,
    async authorize(request) {
      const checked = await check(request);
      return checked.isAllowed ? undefined : checked.response;
    },
  };
}
