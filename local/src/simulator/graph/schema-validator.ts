/**
 * A JSON Schema (draft 2020-12) validator for the subset of keywords the Graph calling schemas in
 * `./schemas` use: `$ref` (local and by `$id`), `allOf`, `anyOf`, `if`/`then`, `const`, `enum`,
 * `type`, `properties`, `required`, `items`, `minimum`, `maximum`, `pattern`, `format`
 * (int32, int64, date-time). Unknown members are allowed, as in the schemas' open types.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

type Schema = boolean | { readonly [key: string]: unknown };

export interface SchemaError {
  /** JSON Pointer of the offending value, `''` for the root. */
  readonly path: string;
  readonly message: string;
}

export type SchemaVerdict =
  { readonly valid: true } | { readonly valid: false; readonly errors: readonly SchemaError[] };

export const GraphSchemaId = {
  answer: 'urn:msgraph-schemas:v1.0:answer-request.schema.json',
  reject: 'urn:msgraph-schemas:v1.0:reject-request.schema.json',
  redirect: 'urn:msgraph-schemas:v1.0:redirect-request.schema.json',
  updateRecordingStatus: 'urn:msgraph-schemas:v1.0:update-recording-status-request.schema.json',
  updateRecordingStatusResponse:
    'urn:msgraph-schemas:v1.0:update-recording-status-response.schema.json',
  call: 'urn:msgraph-schemas:v1.0:call.schema.json',
  participant: 'urn:msgraph-schemas:v1.0:participant.schema.json',
  commsNotifications: 'urn:msgraph-schemas:v1.0:comms-notifications.schema.json',
  participantJoiningNotification:
    'urn:msgraph-schemas:v1.0:participant-joining-notification.schema.json',
  participantLeftNotification: 'urn:msgraph-schemas:v1.0:participant-left-notification.schema.json',
  participantJoiningResponse: 'urn:msgraph-schemas:v1.0:participant-joining-response.schema.json',
} as const;

const MAX_ERRORS = 20;

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

function pointer(path: string, key: string | number): string {
  return `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

export class SchemaValidator {
  readonly #documents = new Map<string, Schema>();
  readonly #patterns = new Map<string, RegExp>();

  /** Adds a schema document under its `$id`. */
  add(document: { readonly $id?: unknown }): void {
    if (typeof document.$id !== 'string') throw new Error('schema document has no $id');
    this.#documents.set(document.$id, document);
  }

  /** Loads every `*.schema.json` file of a folder. */
  static fromDirectory(dir: string): SchemaValidator {
    const validator = new SchemaValidator();
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.schema.json'))) {
      validator.add(JSON.parse(readFileSync(join(dir, name), 'utf8')) as { $id?: unknown });
    }
    return validator;
  }

  validate(schemaId: string, value: unknown): SchemaVerdict {
    const root = this.#documents.get(schemaId);
    if (root === undefined) throw new Error(`unknown schema ${schemaId}`);
    const errors: SchemaError[] = [];
    this.#check(root, root, value, '', errors);
    return errors.length === 0
      ? { valid: true }
      : { valid: false, errors: errors.slice(0, MAX_ERRORS) };
  }

  #resolve(root: Schema, ref: string): { root: Schema; schema: Schema } {
    const [base, fragment = ''] = ref.split('#', 2) as [string, string?];
    const doc = base === '' ? root : this.#documents.get(base);
    if (doc === undefined) throw new Error(`unresolvable $ref ${ref}`);
    let node: unknown = doc;
    for (const raw of fragment.split('/').filter((p) => p !== '')) {
      const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      node = (node as Record<string, unknown> | undefined)?.[part];
    }
    if (node === undefined) throw new Error(`unresolvable $ref ${ref}`);
    return { root: doc, schema: node as Schema };
  }

  #regex(pattern: string): RegExp {
    let re = this.#patterns.get(pattern);
    if (!re) {
      re = new RegExp(pattern, 'u');
      this.#patterns.set(pattern, re);
    }
    return re;
  }

  #check(root: Schema, schema: Schema, value: unknown, path: string, errors: SchemaError[]): void {
    if (errors.length >= MAX_ERRORS) return;
    if (schema === true) return;
    if (schema === false) {
      errors.push({ path, message: 'no value is allowed here' });
      return;
    }
    const s = schema;
    if (typeof s.$ref === 'string') {
      const target = this.#resolve(root, s.$ref);
      this.#check(target.root, target.schema, value, path, errors);
    }
    if (typeof s.type === 'string' && !matchesType(value, s.type)) {
      errors.push({ path, message: `expected ${s.type}, got ${typeOf(value)}` });
      return;
    }
    if ('const' in s && JSON.stringify(s.const) !== JSON.stringify(value)) {
      errors.push({ path, message: `must be ${JSON.stringify(s.const)}` });
    }
    if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
      errors.push({
        path,
        message: `must be one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}`,
      });
    }
    if (typeof value === 'number') {
      if (typeof s.minimum === 'number' && value < s.minimum)
        errors.push({ path, message: `must be >= ${s.minimum}` });
      if (typeof s.maximum === 'number' && value > s.maximum)
        errors.push({ path, message: `must be <= ${s.maximum}` });
      if ((s.format === 'int32' || s.format === 'int64') && !Number.isInteger(value)) {
        errors.push({ path, message: `must be an integer (${s.format})` });
      }
    }
    if (typeof value === 'string') {
      if (typeof s.pattern === 'string' && !this.#regex(s.pattern).test(value)) {
        errors.push({
          path,
          message: `does not match the ${s.format === 'date-time' ? 'date-time format' : 'required pattern'}`,
        });
      } else if (s.format === 'date-time' && Number.isNaN(Date.parse(value))) {
        errors.push({ path, message: 'is not a date-time' });
      }
    }
    if (Array.isArray(s.required) && typeOf(value) === 'object') {
      for (const key of s.required as string[]) {
        if (!(key in (value as object)))
          errors.push({ path: pointer(path, key), message: 'is required' });
      }
    }
    if (s.properties !== undefined && typeOf(value) === 'object') {
      const props = s.properties as Record<string, Schema>;
      for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
        const sub = props[key];
        if (sub !== undefined) this.#check(root, sub, child, pointer(path, key), errors);
      }
    }
    if (s.items !== undefined && Array.isArray(value)) {
      value.forEach((item, i) =>
        this.#check(root, s.items as Schema, item, pointer(path, i), errors),
      );
    }
    if (Array.isArray(s.allOf)) {
      for (const sub of s.allOf as Schema[]) this.#check(root, sub, value, path, errors);
    }
    if (Array.isArray(s.anyOf)) {
      const branches = (s.anyOf as Schema[]).map((sub) => {
        const branchErrors: SchemaError[] = [];
        this.#check(root, sub, value, path, branchErrors);
        return branchErrors;
      });
      if (!branches.some((b) => b.length === 0)) {
        // Report the branch that got furthest (fewest errors), which is the intended type in practice.
        const best = [...branches].sort((a, b) => a.length - b.length)[0] ?? [];
        const informative = best.filter((e) => !e.message.startsWith('expected null'));
        errors.push(
          ...(informative.length > 0
            ? informative
            : [{ path, message: 'matches none of the allowed types' }]),
        );
      }
    }
    if (s.if !== undefined) {
      const probe: SchemaError[] = [];
      this.#check(root, s.if as Schema, value, path, probe);
      if (probe.length === 0 && s.then !== undefined)
        this.#check(root, s.then as Schema, value, path, errors);
    }
  }
}
