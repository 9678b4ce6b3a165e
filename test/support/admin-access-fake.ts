/**
 * An admin access for handler tests: tokens are `Bearer <userId>`, users and their app roles are
 * given by the test, and every ledger entry is kept in `entries`.
 */
import type { LedgerEntryDraft } from '@attest/core';
import type { TokenVerifier } from '../../functions/src/domain/token-verifier';
import {
  configuredScopes,
  createAdminAccess,
  type AdminAccess,
} from '../../functions/src/http/admin-access';

export interface FakeUser {
  readonly roles: readonly string[];
  readonly tenantId: string;
  readonly groups?: readonly string[];
}

export function fakeVerifier(users: Readonly<Record<string, FakeUser>>): TokenVerifier {
  return {
    verify: (header) => {
      const userId = header?.replace(/^Bearer /, '') ?? '';
      const user = users[userId];
      if (user === undefined) return Promise.resolve({ isValid: false, reason: 'unknown token' });
      return Promise.resolve({
        isValid: true,
        token: {
          issuer: 'https://login.example/t',
          audience: 'attest',
          tenantId: user.tenantId,
          subject: userId,
          roles: user.roles,
          expiresAt: new Date('2100-01-01'),
          claims: { groups: user.groups ?? [] },
        },
      });
    },
  };
}

export function fakeAdminAccess(
  users: Readonly<Record<string, FakeUser>>,
  options: {
    readonly operatorTenantId?: string;
    readonly scopes?: Readonly<Record<string, readonly string[]>>;
  } = {},
): { access: AdminAccess; entries: LedgerEntryDraft[] } {
  const entries: LedgerEntryDraft[] = [];
  const access = createAdminAccess({
    verifier: fakeVerifier(users),
    ledger: {
      append: (draft) => {
        entries.push(draft);
        return Promise.resolve({} as never);
      },
    },
    scopes: configuredScopes(options.scopes ?? {}),
    ...(options.operatorTenantId === undefined
      ? {}
      : { operatorTenantId: options.operatorTenantId }),
  });
  return { access, entries };
}
