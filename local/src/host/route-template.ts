/**
 * Route templates as Azure Functions writes them (ASP.NET style): literals, `{id}`, optional
 * `{id?}`, catch-all `{*path}`, constraints `{id:int}` (int, long, bool, guid, alpha, double,
 * float, decimal, datetime are checked; other constraints are accepted without checking) and
 * defaults `{id=1}` (treated as optional).
 */

export interface CompiledRoute {
  readonly template: string;
  /** Higher matches first: literal segments beat parameters, catch-alls come last. */
  readonly precedence: number;
  match(path: string): Record<string, string> | undefined;
}

interface Parameter {
  readonly name: string;
  readonly constraints: readonly string[];
  readonly defaultValue: string | undefined;
}

const constraintChecks: Readonly<Record<string, RegExp>> = {
  int: /^-?\d+$/,
  long: /^-?\d+$/,
  bool: /^(true|false)$/i,
  guid: /^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$/i,
  alpha: /^[a-z]+$/i,
  double: /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/,
  float: /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/,
  decimal: /^-?\d+(\.\d+)?$/,
  datetime: /^\d{4}-\d{2}-\d{2}([T ][\d:.]+Z?)?$/,
};

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function parseParameter(body: string): Parameter & { catchAll: boolean; optional: boolean } {
  let text = body.trim();
  const catchAll = text.startsWith('*');
  if (catchAll) text = text.replace(/^\*+/, '');
  let defaultValue: string | undefined;
  const equals = text.indexOf('=');
  if (equals >= 0) {
    defaultValue = text.slice(equals + 1);
    text = text.slice(0, equals);
  }
  let optional = defaultValue !== undefined;
  if (text.endsWith('?')) {
    optional = true;
    text = text.slice(0, -1);
  }
  const [name = '', ...constraints] = text.split(':');
  if (name === '') throw new Error(`Route parameter without a name in "{${body}}"`);
  return {
    name,
    constraints: constraints.map((c) => c.replace(/\(.*\)$/, '').toLowerCase()),
    defaultValue,
    catchAll,
    optional,
  };
}

/** Compiles a template (without leading slash or route prefix). Throws on a malformed template. */
export function compileRoute(template: string): CompiledRoute {
  const trimmed = template.replace(/^\/+|\/+$/g, '');
  const segments = trimmed === '' ? [] : trimmed.split('/');
  const parameters: Parameter[] = [];
  let pattern = '';
  let precedence = 0;
  segments.forEach((segment, index) => {
    const whole = /^\{([^{}]+)\}$/.exec(segment);
    if (whole?.[1] !== undefined) {
      const parameter = parseParameter(whole[1]);
      parameters.push(parameter);
      if (parameter.catchAll) {
        if (index !== segments.length - 1)
          throw new Error(`Catch-all must be the last segment in "${template}"`);
        pattern += '(?:/(.*))?';
        precedence += 0;
      } else if (parameter.optional) {
        pattern += '(?:/([^/]+))?';
        precedence += 1;
      } else {
        pattern += '/([^/]+)';
        precedence += 2;
      }
      return;
    }
    // A segment mixing literals and parameters, e.g. `{name}.{ext}`.
    let segmentPattern = '';
    let rest = segment;
    let hasParameter = false;
    while (rest.length > 0) {
      const open = rest.indexOf('{');
      if (open < 0) {
        segmentPattern += escapeRegExp(rest);
        break;
      }
      segmentPattern += escapeRegExp(rest.slice(0, open));
      const close = rest.indexOf('}', open);
      if (close < 0) throw new Error(`Unclosed "{" in route "${template}"`);
      const parameter = parseParameter(rest.slice(open + 1, close));
      parameters.push({ ...parameter });
      segmentPattern += parameter.optional ? '([^/]*?)' : '([^/]+?)';
      hasParameter = true;
      rest = rest.slice(close + 1);
    }
    pattern += `/${segmentPattern}`;
    precedence += hasParameter ? 2 : 3;
  });
  const regex = new RegExp(`^${pattern}/?$`, 'i');
  // Precedence weighs earlier segments more, so `a/b/{x}` beats `a/{y}/c` only by specificity.
  const score = precedence * 100 + segments.length;
  return {
    template,
    precedence: score,
    match(path) {
      const normalized =
        path === '' || path === '/' ? '' : path.startsWith('/') ? path : `/${path}`;
      const found = regex.exec(normalized === '/' ? '' : normalized);
      if (found === null) return undefined;
      const params: Record<string, string> = {};
      for (let i = 0; i < parameters.length; i++) {
        const parameter = parameters[i];
        if (parameter === undefined) continue;
        const raw = found[i + 1];
        let value: string | undefined;
        try {
          value =
            raw === undefined || raw === '' ? parameter.defaultValue : decodeURIComponent(raw);
        } catch {
          return undefined;
        }
        if (value === undefined) continue;
        for (const constraint of parameter.constraints) {
          const check = constraintChecks[constraint];
          if (check !== undefined && !check.test(value)) return undefined;
        }
        params[parameter.name] = value;
      }
      return params;
    },
  };
}
