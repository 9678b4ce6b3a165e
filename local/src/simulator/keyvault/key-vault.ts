/**
 * The Key Vault keys stand-in: the REST subset `@azure/keyvault-keys` calls for Attest's keys
 * (get key, wrapkey, unwrapkey, sign, verify), with Key Vault's challenge-based auth. Keys are
 * created from configuration (generation starts with the first vault request or key lookup, so a
 * simulator that never uses the vault does not pay for a 3072-bit RSA key) and are never
 * exportable: GET returns the public JWK only.
 *
 * Auth as Key Vault does it: a request without a bearer token gets 401 with
 * `WWW-Authenticate: Bearer authorization="<authority>/<tenant>", resource="https://vault.azure.net"`;
 * a token must be one the simulated Entra issued for that resource and tenant (else 401), from an
 * allowed app (else 403); an operation the key does not permit is 403.
 */
import {
  constants,
  generateKeyPair,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimulatedEntra } from '../entra/entra';
import type { SimClock } from '../util/clock';
import { bearerToken, sendJson, type SimLogger } from '../util/http';
import { verifyJwt } from '../util/jwt';
import { signDigestP256, verifyDigestP256 } from './p256-digest';

export const KEY_VAULT_RESOURCE = 'https://vault.azure.net';

export const KeyOperation = {
  wrapKey: 'wrapKey',
  unwrapKey: 'unwrapKey',
  sign: 'sign',
  verify: 'verify',
} as const;
export type KeyOperation = (typeof KeyOperation)[keyof typeof KeyOperation];

/** One key created at start. */
export interface VaultKeyDefinition {
  readonly name: string;
  readonly kty: 'RSA' | 'EC';
  /** RSA modulus length in bits. Default 3072. */
  readonly sizeInBits?: number;
  /** EC curve; only `P-256`. */
  readonly crv?: 'P-256';
  readonly keyOps: readonly KeyOperation[];
}

/** The keys the Bicep template provisions (infra/modules/key-vault.bicep). */
export const DEFAULT_VAULT_KEYS: readonly VaultKeyDefinition[] = [
  { name: 'recording-kek', kty: 'RSA', sizeInBits: 3072, keyOps: ['wrapKey', 'unwrapKey'] },
  { name: 'manifest-signing', kty: 'EC', crv: 'P-256', keyOps: ['sign', 'verify'] },
  { name: 'ledger-signing', kty: 'EC', crv: 'P-256', keyOps: ['sign', 'verify'] },
];

export interface KeyVaultOptions {
  /** The simulator's base URL: the vault URI and the Entra authority host. */
  readonly baseUrl: () => string;
  readonly entra: SimulatedEntra;
  readonly clock: SimClock;
  /** Tenant named in the challenge; tokens must carry it as `tid`. */
  readonly tenantId: () => string;
  readonly keys?: readonly VaultKeyDefinition[];
  /** App ids allowed to use the keys (Key Vault Crypto User); undefined = any app of the tenant. */
  readonly allowedAppIds?: readonly string[];
  readonly log: SimLogger;
}

interface VaultKey {
  readonly definition: VaultKeyDefinition;
  readonly version: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly createdInS: number;
}

const KEY_PATH =
  /^\/keys\/([0-9A-Za-z-]{1,127})(?:\/([0-9a-f]{32})?)?(?:\/(wrapkey|unwrapkey|sign|verify))?\/?$/;
const OPERATION_BY_ACTION: Readonly<Record<string, KeyOperation>> = {
  wrapkey: 'wrapKey',
  unwrapkey: 'unwrapKey',
  sign: 'sign',
  verify: 'verify',
};
const RSA_ALGORITHMS: Readonly<Record<string, 'sha1' | 'sha256'>> = {
  'RSA-OAEP': 'sha1',
  'RSA-OAEP-256': 'sha256',
};

function vaultError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  sendJson(res, status, { error: { code, message } }, headers);
}

const generate = promisify(generateKeyPair);

async function createKey(definition: VaultKeyDefinition, createdInS: number): Promise<VaultKey> {
  const pair =
    definition.kty === 'RSA'
      ? await generate('rsa', { modulusLength: definition.sizeInBits ?? 3072 })
      : await generate('ec', { namedCurve: definition.crv ?? 'P-256' });
  return { definition, version: randomBytes(16).toString('hex'), createdInS, ...pair };
}

export class SimulatedKeyVault {
  readonly #options: KeyVaultOptions;
  #keys: Promise<ReadonlyMap<string, VaultKey>> | undefined;

  constructor(options: KeyVaultOptions) {
    this.#options = options;
    for (const definition of options.keys ?? DEFAULT_VAULT_KEYS) {
      if (!/^[0-9A-Za-z-]{1,127}$/.test(definition.name))
        throw new Error(`invalid vault key name ${definition.name}`);
      if (definition.kty === 'EC' && (definition.crv ?? 'P-256') !== 'P-256')
        throw new Error(`vault key ${definition.name}: only P-256 is supported`);
    }
  }

  /** The keys, generated (off the main thread) on first use. */
  #allKeys(): Promise<ReadonlyMap<string, VaultKey>> {
    this.#keys ??= (async () => {
      const createdInS = Math.floor(this.#options.clock.nowInMs() / 1000);
      const keys = await Promise.all(
        (this.#options.keys ?? DEFAULT_VAULT_KEYS).map((definition) =>
          createKey(definition, createdInS),
        ),
      );
      return new Map(keys.map((key) => [key.definition.name, key]));
    })();
    return this.#keys;
  }

  /** `https://127.0.0.1:<port>`: set as `ATTEST_KEYVAULT_URI`. */
  get vaultUri(): string {
    return this.#options.baseUrl();
  }

  /** The public key of a configured key (tests verify with it), or undefined. */
  async getPublicKey(name: string): Promise<KeyObject | undefined> {
    return (await this.#allKeys()).get(name)?.publicKey;
  }

  #kid(key: VaultKey): string {
    return `${this.#options.baseUrl()}/keys/${key.definition.name}/${key.version}`;
  }

  #challenge(): Record<string, string> {
    return {
      'www-authenticate': `Bearer authorization="${this.#options.baseUrl()}/${this.#options.tenantId()}", resource="${KEY_VAULT_RESOURCE}"`,
    };
  }

  /** Handles a `/keys/...` route; false when the path is not the vault's. */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    readBody: () => Promise<string>,
  ): Promise<boolean> {
    if (!url.pathname.startsWith('/keys/')) return false;
    // The SDK's first request carries no token (and no body): the challenge tells it where to get one.
    const token = bearerToken(req);
    if (token === undefined) {
      vaultError(
        res,
        401,
        'Unauthorized',
        'AKV10000: Request is missing a Bearer or PoP token.',
        this.#challenge(),
      );
      return true;
    }
    const check = await verifyJwt(token, [this.#options.entra.tokenKey], {
      nowInMs: this.#options.clock.nowInMs(),
      audience: [KEY_VAULT_RESOURCE],
      skewInS: 0,
    });
    if (!check.ok) {
      this.#options.log('info', 'key vault refused a token', { reason: check.reason });
      vaultError(
        res,
        401,
        'Unauthorized',
        `AKV10022: Invalid token (${check.reason}).`,
        this.#challenge(),
      );
      return true;
    }
    if (check.claims.tid !== this.#options.tenantId()) {
      vaultError(
        res,
        401,
        'Unauthorized',
        'AKV10032: Invalid issuer: the token is for another tenant.',
        this.#challenge(),
      );
      return true;
    }
    const appId = typeof check.claims.appid === 'string' ? check.claims.appid : '';
    if (this.#options.allowedAppIds !== undefined && !this.#options.allowedAppIds.includes(appId)) {
      vaultError(
        res,
        403,
        'Forbidden',
        `Caller is not authorized to perform action on resource. Caller: appid=${appId}. Action: key operations.`,
        { 'x-ms-keyvault-error': 'ForbiddenByRbac' },
      );
      return true;
    }
    if (url.searchParams.get('api-version') === null) {
      vaultError(res, 400, 'BadParameter', 'The api-version query parameter is required.');
      return true;
    }
    const match = KEY_PATH.exec(url.pathname);
    const key = match === null ? undefined : (await this.#allKeys()).get(match[1] ?? '');
    if (
      match === null ||
      key === undefined ||
      (match[2] !== undefined && match[2] !== key.version)
    ) {
      vaultError(
        res,
        404,
        'KeyNotFound',
        `A key with (name/id) ${match?.[1] ?? url.pathname} was not found in this key vault.`,
      );
      return true;
    }
    const action = match[3];
    if (action === undefined) {
      if (req.method !== 'GET') {
        vaultError(res, 405, 'MethodNotAllowed', `${req.method ?? ''} is not supported on a key.`);
        return true;
      }
      sendJson(res, 200, this.#bundle(key));
      return true;
    }
    if (req.method !== 'POST') {
      vaultError(
        res,
        405,
        'MethodNotAllowed',
        `${req.method ?? ''} is not supported on ${action}.`,
      );
      return true;
    }
    const operation = OPERATION_BY_ACTION[action]!;
    if (!key.definition.keyOps.includes(operation)) {
      vaultError(res, 403, 'Forbidden', `Operation ${operation} is not permitted on this key.`);
      return true;
    }
    let body: { alg?: unknown; value?: unknown; digest?: unknown };
    try {
      body = JSON.parse(await readBody()) as typeof body;
    } catch {
      vaultError(res, 400, 'BadParameter', 'The request body is not JSON.');
      return true;
    }
    this.#operate(res, key, operation, body);
    this.#options.log('debug', 'key vault operation', { key: key.definition.name, operation });
    return true;
  }

  #bundle(key: VaultKey): unknown {
    const jwk = key.publicKey.export({ format: 'jwk' }) as Record<string, string>;
    const material =
      key.definition.kty === 'RSA' ? { n: jwk.n, e: jwk.e } : { crv: jwk.crv, x: jwk.x, y: jwk.y };
    return {
      key: {
        kid: this.#kid(key),
        kty: key.definition.kty,
        key_ops: key.definition.keyOps,
        ...material,
      },
      attributes: {
        enabled: true,
        created: key.createdInS,
        updated: key.createdInS,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
        exportable: false,
      },
      tags: {},
    };
  }

  #operate(
    res: ServerResponse,
    key: VaultKey,
    operation: KeyOperation,
    body: { alg?: unknown; value?: unknown; digest?: unknown },
  ): void {
    const alg = typeof body.alg === 'string' ? body.alg : '';
    const value = typeof body.value === 'string' ? Buffer.from(body.value, 'base64url') : undefined;
    if (value === undefined)
      return vaultError(res, 400, 'BadParameter', 'Property value is required.');
    const kid = this.#kid(key);
    if (operation === 'wrapKey' || operation === 'unwrapKey') {
      const oaepHash = RSA_ALGORITHMS[alg];
      if (key.definition.kty !== 'RSA' || oaepHash === undefined)
        return vaultError(
          res,
          400,
          'BadParameter',
          `Algorithm ${alg || 'none'} is not supported for ${operation} on this key.`,
        );
      try {
        const options = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash };
        const result =
          operation === 'wrapKey'
            ? publicEncrypt({ key: key.publicKey, ...options }, value)
            : privateDecrypt({ key: key.privateKey, ...options }, value);
        return sendJson(res, 200, { kid, value: result.toString('base64url') });
      } catch {
        return vaultError(
          res,
          400,
          'BadParameter',
          'Decryption failed: the value was not wrapped with this key and algorithm.',
        );
      }
    }
    if (key.definition.kty !== 'EC' || alg !== 'ES256')
      return vaultError(
        res,
        400,
        'BadParameter',
        `Algorithm ${alg || 'none'} is not supported for ${operation} on this key.`,
      );
    if (operation === 'sign') {
      if (value.length !== 32)
        return vaultError(
          res,
          400,
          'BadParameter',
          'Invalid digest length: ES256 needs a 32-byte SHA-256 digest.',
        );
      return sendJson(res, 200, {
        kid,
        value: signDigestP256(value, key.privateKey).toString('base64url'),
      });
    }
    const digest =
      typeof body.digest === 'string' ? Buffer.from(body.digest, 'base64url') : Buffer.alloc(0);
    return sendJson(res, 200, {
      value: digest.length === 32 && verifyDigestP256(digest, value, key.publicKey),
    });
  }
}
