/**
 * Secrets in logs: every log line the campaign's processes wrote so far (run it last) is scanned
 * for the deployment's secrets (the app secret, the media control key, the simulator's control
 * token), bearer tokens (JWTs), storage account keys and SAS signatures. None may appear.
 */
import type { ChaosScenario } from '../scenario';

/** Patterns of secrets whatever the deployment: JWTs, account keys, SAS signatures, PEM keys. */
export const SECRET_PATTERNS: readonly { readonly name: string; readonly pattern: RegExp }[] = [
  { name: 'jwt', pattern: /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/ },
  { name: 'accountKey', pattern: /AccountKey=[A-Za-z0-9+/=]{20,}/i },
  { name: 'sasSignature', pattern: /[?&]sig=[A-Za-z0-9%+/=]{20,}/i },
  { name: 'privateKey', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
  { name: 'bearer', pattern: /bearer\s+[A-Za-z0-9._~+/-]{20,}/i },
];

export interface SecretFinding {
  readonly line: number;
  readonly kind: string;
}

/** Where secrets appear in `lines`: known values by name, and the patterns above. */
export function scanForSecrets(
  lines: readonly string[],
  knownSecrets: readonly string[],
): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const known = knownSecrets.filter((s) => s.length >= 8);
  lines.forEach((line, index) => {
    if (known.some((secret) => line.includes(secret)))
      findings.push({ line: index + 1, kind: 'knownSecret' });
    for (const { name, pattern } of SECRET_PATTERNS)
      if (pattern.test(line)) findings.push({ line: index + 1, kind: name });
  });
  return findings;
}

/** The scenario, given where to find the known secrets (the stack's, when it was started). */
export function secretsInLogs<Stack>(
  secretsOf: (stack: Stack) => readonly string[],
  options: { readonly needsStack: boolean } = { needsStack: true },
): ChaosScenario<Stack> {
  return {
    name: 'secrets-in-logs',
    description: 'every log line of the campaign scanned for keys, tokens and secrets: none',
    async run(context) {
      const known = options.needsStack ? secretsOf(await context.stack()) : [];
      const lines = [...context.logLines];
      const findings = scanForSecrets(lines, known);
      context.progress(`${lines.length} lines scanned`);
      return {
        isPassed: lines.length > 0 && findings.length === 0,
        figures: {
          linesScanned: lines.length,
          findings: findings.length,
          firstFinding:
            findings[0] === undefined ? null : `line ${findings[0].line}: ${findings[0].kind}`,
        },
      };
    },
  };
}
