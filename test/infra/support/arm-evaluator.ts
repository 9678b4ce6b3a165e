/**
 * Evaluates the parts of a compiled ARM template that tests read (module parameters, outputs,
 * copy loops) with the ARM expression functions Bicep emits. What exists only once Azure has
 * created a resource (`reference(...)` of a resource, `newGuid()`) becomes a placeholder that says
 * where it came from; a module's outputs are evaluated from its own template, so wiring mistakes
 * between modules show.
 */
import { createHash } from 'node:crypto';

export interface ArmTemplate {
  readonly parameters?: Record<string, { type?: string; defaultValue?: unknown }>;
  readonly variables?: Record<string, unknown>;
  readonly resources?: readonly ArmResource[] | Record<string, ArmResource>;
  readonly outputs?: Record<string, { type?: string; value?: unknown }>;
}

export interface ArmResource {
  readonly type: string;
  readonly name: string;
  readonly properties?: Record<string, unknown> & {
    readonly parameters?: Record<string, { value?: unknown }>;
    readonly template?: ArmTemplate;
  };
  readonly [key: string]: unknown;
}

/** A value Azure knows only after deployment; `path` names it (`reference:vault.vaultUri`). */
export class Unresolved {
  constructor(readonly path: readonly string[]) {}
  get(key: string): Unresolved {
    return new Unresolved([...this.path, key]);
  }
  /** A placeholder of the right shape for settings readers (URLs stay URLs). */
  toString(): string {
    const last = this.path[this.path.length - 1] ?? 'value';
    const label = last.toLowerCase().replace(/[^a-z0-9]/g, '');
    // Distinct per resource (two accounts' blob endpoints differ), stable per path.
    if (/uri|url|endpoint/i.test(last) || this.path.includes('primaryEndpoints'))
      return `https://${label}-${createHash('sha256').update(this.path.join('|')).digest('hex').slice(0, 8)}.placeholder.invalid/`;
    if (/hostname|fqdn/i.test(last)) return `${label}.placeholder.invalid`;
    return `placeholder-${label}`;
  }
  toJSON(): string {
    return this.toString();
  }
}

export function resourcesOf(template: ArmTemplate): ArmResource[] {
  const resources = template.resources ?? [];
  return Array.isArray(resources)
    ? [...(resources as readonly ArmResource[])]
    : Object.values(resources);
}

export class ArmScope {
  readonly #parameters: Record<string, unknown>;
  readonly #variableCache = new Map<string, unknown>();
  #copyIndex = new Map<string, number>();
  /** The index of the resource loop being evaluated (`copyIndex()` without a name). */
  #resourceIndex: number | undefined;

  constructor(
    readonly template: ArmTemplate,
    parameterValues: Record<string, unknown>,
    private readonly context: { readonly location: string; readonly tenantId: string },
  ) {
    this.#parameters = {};
    for (const [name, declaration] of Object.entries(template.parameters ?? {})) {
      if (name in parameterValues) this.#parameters[name] = parameterValues[name];
      else if (declaration.defaultValue !== undefined)
        this.#parameters[name] = this.evaluate(declaration.defaultValue);
      else throw new Error(`parameter ${name} has no value`);
    }
  }

  /** Evaluates a JSON value whose strings may be `[expressions]`, and its `copy` loops. */
  evaluate(value: unknown): unknown {
    if (typeof value === 'string') return this.#expression(value);
    if (Array.isArray(value)) return value.map((item) => this.evaluate(item));
    if (value !== null && typeof value === 'object') {
      const result: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(value)) {
        if (key === 'copy' && Array.isArray(child)) {
          for (const loop of child as { name: string; count: unknown; input: unknown }[])
            result[loop.name] = this.#copy(loop);
        } else result[key] = this.evaluate(child);
      }
      return result;
    }
    return value;
  }

  /** The value of a module's output, evaluated in the module's own template. */
  moduleOutputs(name: string): Record<string, unknown> {
    const module = this.moduleScope(name);
    const outputs: Record<string, unknown> = {};
    for (const [key, output] of Object.entries(module.template.outputs ?? {}))
      outputs[key] = module.evaluate(output.value);
    return outputs;
  }

  /** The scope of a nested deployment (a Bicep module) with its parameters evaluated here. */
  moduleScope(name: string): ArmScope {
    // A module's parameters may reference another looped module's outputs: keep the outer index.
    const outerIndex = this.#resourceIndex;
    for (const resource of resourcesOf(this.template)) {
      if (resource.type !== 'Microsoft.Resources/deployments') continue;
      // A module loop (`[for … in …]`): one deployment per index, named by its expression.
      const loop = resource.copy as { name: string; count: unknown } | undefined;
      const count = loop === undefined ? 1 : Number(this.evaluate(loop.count));
      for (let index = 0; index < count; index += 1) {
        this.#resourceIndex = loop === undefined ? undefined : index;
        try {
          if (this.evaluate(resource.name) !== name) continue;
          if (resource.properties?.template === undefined) break;
          const values: Record<string, unknown> = {};
          for (const [key, parameter] of Object.entries(resource.properties.parameters ?? {}))
            values[key] =
              parameter.value !== undefined
                ? this.evaluate(parameter.value)
                : // A parameter built by a for-expression is `{ copy: [{ name: 'value', … }] }`.
                  (this.evaluate(parameter) as { value?: unknown }).value;
          return new ArmScope(resource.properties.template, values, this.context);
        } finally {
          this.#resourceIndex = outerIndex;
        }
      }
    }
    throw new Error(`no module ${name}`);
  }

  /** Every instance of a resource, evaluated: one, or one per index of its resource loop. */
  instancesOf(resource: ArmResource): unknown[] {
    const loop = resource.copy as { name: string; count: unknown } | undefined;
    if (loop === undefined) return [this.evaluate(resource)];
    const count = Number(this.evaluate(loop.count));
    const instances: unknown[] = [];
    const single = Object.fromEntries(
      Object.entries(resource).filter(([key]) => key !== 'copy'),
    ) as ArmResource;
    const outerIndex = this.#resourceIndex;
    for (let index = 0; index < count; index += 1) {
      this.#resourceIndex = index;
      try {
        instances.push(this.evaluate(single));
      } finally {
        this.#resourceIndex = outerIndex;
      }
    }
    return instances;
  }

  #copy(loop: { name: string; count: unknown; input: unknown }): unknown[] {
    const count = Number(this.evaluate(loop.count));
    const items: unknown[] = [];
    for (let i = 0; i < count; i += 1) {
      this.#copyIndex.set(loop.name, i);
      items.push(this.evaluate(loop.input));
    }
    this.#copyIndex = new Map([...this.#copyIndex].filter(([key]) => key !== loop.name));
    return items;
  }

  #expression(text: string): unknown {
    if (!text.startsWith('[') || !text.endsWith(']')) return text;
    if (text.startsWith('[[')) return text.slice(1);
    const parser = new ExpressionParser(text.slice(1, -1));
    const node = parser.parse();
    return this.#run(node);
  }

  #run(node: Node): unknown {
    switch (node.kind) {
      case 'string':
      case 'number':
        return node.value;
      case 'member': {
        const target = this.#run(node.target);
        const key =
          node.property.kind === 'string' ? node.property.value : this.#run(node.property);
        if (target instanceof Unresolved) return target.get(String(key));
        if (target === null || target === undefined)
          throw new Error(`no ${String(key)} on nothing`);
        return (target as Record<string, unknown>)[String(key)];
      }
      case 'call':
        return this.#call(
          node.name,
          node.args.map((arg) => () => this.#run(arg)),
        );
    }
  }

  #call(name: string, lazyArgs: (() => unknown)[]): unknown {
    const args = (): unknown[] => lazyArgs.map((arg) => arg());
    const text = (value: unknown): string =>
      value instanceof Unresolved ? value.toString() : String(value);
    switch (name.toLowerCase()) {
      case 'parameters': {
        const key = String(args()[0]);
        if (!(key in this.#parameters)) throw new Error(`unknown parameter ${key}`);
        return this.#parameters[key];
      }
      case 'variables': {
        const key = String(args()[0]);
        if (!this.#variableCache.has(key)) {
          const raw = this.template.variables?.[key];
          if (raw === undefined) throw new Error(`unknown variable ${key}`);
          this.#variableCache.set(key, this.evaluate(raw));
        }
        return this.#variableCache.get(key);
      }
      case 'if': {
        const [condition, whenTrue, whenFalse] = lazyArgs;
        return condition?.() === true ? whenTrue?.() : whenFalse?.();
      }
      case 'format': {
        const [pattern, ...rest] = args();
        return String(pattern).replace(/\{(\d+)\}/g, (_, i: string) => text(rest[Number(i)]));
      }
      case 'concat': {
        const values = args();
        if (values.every(Array.isArray)) return values.flat();
        return values.map(text).join('');
      }
      case 'string': {
        const [value] = args();
        return typeof value === 'object' && !(value instanceof Unresolved)
          ? JSON.stringify(value)
          : text(value);
      }
      case 'tolower':
        return text(args()[0]).toLowerCase();
      case 'toupper':
        return text(args()[0]).toUpperCase();
      case 'replace': {
        const [value, from, to] = args().map(text);
        return (value ?? '').split(from ?? '').join(to ?? '');
      }
      case 'take': {
        const [value, count] = args();
        return Array.isArray(value)
          ? value.slice(0, Number(count))
          : text(value).slice(0, Number(count));
      }
      case 'base64':
        return Buffer.from(text(args()[0])).toString('base64');
      case 'uniquestring':
      case 'guid':
        return `u${args().map(text).join('').length.toString(36)}x`;
      case 'newguid':
        return '00000000-0000-4000-8000-000000000000';
      case 'equals': {
        const [a, b] = args();
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'not':
        return args()[0] !== true;
      case 'and':
        return args().every((v) => v === true);
      case 'or':
        return args().some((v) => v === true);
      case 'empty': {
        const [value] = args();
        if (value instanceof Unresolved) return false;
        if (typeof value === 'string' || Array.isArray(value)) return value.length === 0;
        return value === null || value === undefined || Object.keys(value).length === 0;
      }
      case 'contains': {
        const [container, item] = args();
        if (typeof container === 'string') return container.includes(text(item));
        if (Array.isArray(container)) return container.includes(item);
        return Object.prototype.hasOwnProperty.call(container, text(item));
      }
      case 'length': {
        const [value] = args();
        return Array.isArray(value) || typeof value === 'string'
          ? value.length
          : Object.keys(value as object).length;
      }
      case 'tryget': {
        // `object.?key` (safe access).
        const [target, key] = args();
        if (target === null || typeof target !== 'object') return null;
        return (target as Record<string, unknown>)[String(key)] ?? null;
      }
      case 'coalesce':
        return args().find((value) => value !== null && value !== undefined) ?? null;
      case 'union':
        return Object.assign({}, ...(args() as object[]));
      case 'items':
        return Object.entries(args()[0] as object).map(([key, value]) => ({ key, value }));
      case 'createobject': {
        const values = args();
        const result: Record<string, unknown> = {};
        for (let i = 0; i < values.length; i += 2) result[text(values[i])] = values[i + 1];
        return result;
      }
      case 'createarray':
        return args();
      case 'true':
        return true;
      case 'false':
        return false;
      case 'null':
        return null;
      case 'copyindex': {
        const [loopName] = args();
        const name = loopName === undefined ? undefined : text(loopName);
        const index = name === undefined ? this.#resourceIndex : this.#copyIndex.get(name);
        if (index === undefined) throw new Error(`copyIndex(${name ?? ''}) outside its loop`);
        return index;
      }
      case 'cidrsubnet': {
        const [prefix, length, index] = args();
        return cidrSubnet(String(prefix), Number(length), Number(index));
      }
      case 'resourceid':
      case 'subscriptionresourceid':
      case 'extensionresourceid':
        return `/resourceId(${args().map(text).join(',')})`;
      case 'reference': {
        const [id] = args();
        const match = /^\/resourceId\(Microsoft\.Resources\/deployments,([^,)]+)\)$/.exec(text(id));
        if (match?.[1] !== undefined) {
          const outputs = this.moduleOutputs(match[1]);
          return {
            outputs: Object.fromEntries(
              Object.entries(outputs).map(([key, value]) => [key, { value }]),
            ),
          };
        }
        return new Unresolved([`reference:${text(id)}`]);
      }
      case 'environment':
        return {
          name: 'AzureCloud',
          authentication: { loginEndpoint: 'https://login.microsoftonline.com/' },
          suffixes: { storage: 'core.windows.net', keyvaultDns: '.vault.azure.net' },
        };
      case 'subscription':
        return {
          id: '/subscriptions/sub',
          subscriptionId: 'sub',
          tenantId: this.context.tenantId,
        };
      case 'resourcegroup':
        return {
          id: '/subscriptions/sub/resourceGroups/rg',
          name: 'rg',
          location: this.context.location,
        };
      case 'deployment':
        return { name: 'deployment' };
      default:
        throw new Error(`ARM function ${name} is not evaluated by the test evaluator`);
    }
  }
}

function cidrSubnet(prefix: string, length: number, index: number): string {
  const [address = ''] = prefix.split('/');
  const base = address.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
  const start = base + index * 2 ** (32 - length);
  const parts = [24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256);
  return `${parts.join('.')}/${length}`;
}

type Node =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'call'; name: string; args: Node[] }
  | { kind: 'member'; target: Node; property: Node };

class ExpressionParser {
  #at = 0;
  constructor(private readonly text: string) {}

  parse(): Node {
    const node = this.#expression();
    this.#space();
    if (this.#at !== this.text.length) throw new Error(`unexpected input in ${this.text}`);
    return node;
  }

  #expression(): Node {
    this.#space();
    let node = this.#primary();
    for (;;) {
      this.#space();
      const next = this.text[this.#at];
      if (next === '.') {
        this.#at += 1;
        node = { kind: 'member', target: node, property: { kind: 'string', value: this.#name() } };
      } else if (next === '[') {
        this.#at += 1;
        const property = this.#expression();
        this.#expect(']');
        node = { kind: 'member', target: node, property };
      } else return node;
    }
  }

  #primary(): Node {
    const char = this.text[this.#at];
    if (char === "'") return { kind: 'string', value: this.#string() };
    if (char !== undefined && /[-0-9]/.test(char)) {
      const match = /^-?\d+/.exec(this.text.slice(this.#at));
      this.#at += match?.[0].length ?? 0;
      return { kind: 'number', value: Number(match?.[0]) };
    }
    const name = this.#name();
    this.#expect('(');
    const args: Node[] = [];
    this.#space();
    if (this.text[this.#at] === ')') this.#at += 1;
    else {
      for (;;) {
        args.push(this.#expression());
        this.#space();
        if (this.text[this.#at] === ',') this.#at += 1;
        else {
          this.#expect(')');
          break;
        }
      }
    }
    return { kind: 'call', name, args };
  }

  #string(): string {
    let value = '';
    this.#at += 1;
    for (;;) {
      const char = this.text[this.#at];
      if (char === undefined) throw new Error(`unterminated string in ${this.text}`);
      this.#at += 1;
      if (char === "'") {
        if (this.text[this.#at] === "'") {
          value += "'";
          this.#at += 1;
        } else return value;
      } else value += char;
    }
  }

  #name(): string {
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.#at))?.[0];
    if (name === undefined) throw new Error(`expected a name at ${this.#at} in ${this.text}`);
    this.#at += name.length;
    return name;
  }

  #expect(char: string): void {
    this.#space();
    if (this.text[this.#at] !== char)
      throw new Error(`expected ${char} at ${this.#at} in ${this.text}`);
    this.#at += 1;
  }

  #space(): void {
    while (this.text[this.#at] === ' ') this.#at += 1;
  }
}
