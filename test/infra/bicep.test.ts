import { execFileSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

interface ArmTemplate {
  parameters?: Record<string, { metadata?: { description?: string } }>;
  outputs?: Record<string, unknown>;
  resources?: unknown;
}

function bicepPath(): string {
  return execFileSync('bash', [path.join(root, 'infra/tools/ensure-bicep.sh')], {
    encoding: 'utf8',
  }).trim();
}

function compile(file: string): ArmTemplate {
  const out = execFileSync(bicepPath(), ['build', path.join(root, file), '--stdout'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out) as ArmTemplate;
}

describe('infra/main.bicep', () => {
  let template: ArmTemplate;
  beforeAll(() => {
    template = compile('infra/main.bicep');
  }, 180_000);

  it('compiles to an ARM template', () => {
    expect(template.resources).toBeDefined();
  });

  it('describes every parameter', () => {
    const undocumented = Object.entries(template.parameters ?? {})
      .filter(([, p]) => (p.metadata?.description ?? '').trim() === '')
      .map(([name]) => name);
    expect(undocumented).toEqual([]);
  });

  it('outputs nothing that looks like a secret', () => {
    const suspicious = Object.keys(template.outputs ?? {}).filter((name) =>
      /key|secret|password|connectionstring|sas/i.test(name),
    );
    expect(suspicious).toEqual([]);
  });

  it('compiles the example parameters file', () => {
    const out = execFileSync(
      bicepPath(),
      ['build-params', path.join(root, 'infra/main.bicepparam'), '--stdout'],
      {
        encoding: 'utf8',
      },
    );
    expect(out).toContain('parametersJson');
  });
});
