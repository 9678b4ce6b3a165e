import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../functions/src/cli/attest';

const APP_ID = '11111111-2222-3333-4444-555555555555';
const GROUP = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';

async function run(args: string[]): Promise<{ code: number; out: string; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    ['teams-policy', ...args],
    (line) => out.push(line),
    (line) => err.push(line),
  );
  return { code, out: out.join('\n'), err };
}

describe('attest teams-policy', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'attest-teams-policy-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the default policy (every Required flag on, one invitation) from deployment outputs', async () => {
    const outputs = join(dir, 'outputs.json');
    writeFileSync(
      outputs,
      JSON.stringify({
        botAppId: { type: 'String', value: APP_ID },
        functionAppUrl: { value: 'x' },
      }),
    );
    const result = await run([
      '--outputs',
      outputs,
      '--instance-upn',
      'recorder@contoso.example',
      '--grant-user',
      'alice@contoso.example',
      '--grant-user',
      'bob@contoso.example',
    ]);
    expect(result.code).toBe(0);
    expect(result.out).toMatchSnapshot();
  });

  it('writes a resilient policy: two invitations, calls not gated, a group grant', async () => {
    const result = await run([
      '--app-id',
      APP_ID,
      '--instance-upn',
      'recorder@contoso.example',
      '--policy-name',
      'TradersRecording',
      '--concurrent-invitations',
      '2',
      '--no-required-before-call',
      '--no-required-during-call',
      '--warn-user-on-removal',
      '--record-rerouted-calls',
      '--grant-group',
      GROUP,
    ]);
    expect(result.code).toBe(0);
    expect(result.out).toMatchSnapshot();
  });

  it('writes a paired-application policy granted to the whole tenant into a file', async () => {
    const file = join(dir, 'policy.ps1');
    const result = await run([
      '--app-id',
      APP_ID,
      '--instance-upn',
      'recorder-a@contoso.example',
      '--paired-instance-upn',
      'recorder-b@contoso.example',
      '--disable-audio-notification-for-calls',
      '--grant-global',
      '--out',
      file,
    ]);
    expect(result.code).toBe(0);
    expect(result.err).toEqual([`wrote ${file}`]);
    expect(readFileSync(file, 'utf8')).toMatchSnapshot();
  });

  it('refuses two invitations together with a paired application', async () => {
    const result = await run([
      '--app-id',
      APP_ID,
      '--instance-upn',
      'recorder@contoso.example',
      '--concurrent-invitations',
      '2',
      '--paired-instance-upn',
      'recorder-b@contoso.example',
    ]);
    expect(result.code).toBe(2);
    expect(result.err).toEqual([
      'attest teams-policy: use --concurrent-invitations 2 or --paired-instance-upn, not both',
    ]);
  });

  it('refuses values that could break out of the script', async () => {
    const result = await run([
      '--app-id',
      APP_ID,
      '--instance-upn',
      "x'; Remove-Item C:\\ -Recurse; '@contoso.example",
      '--grant-group',
      'not-a-guid',
    ]);
    expect(result.code).toBe(2);
    expect(result.err).toEqual([
      'attest teams-policy: --instance-upn must be a user principal name; --grant-group not-a-guid is not a group object id',
    ]);
  });

  it('answers a usage line and exit code 2 without the resource account', async () => {
    const result = await run(['--app-id', APP_ID]);
    expect(result.code).toBe(2);
    expect(result.err[0]).toMatch(/^usage: attest teams-policy --instance-upn <upn>/);
  });

  it('answers the usage line for an invitation count other than 1 or 2', async () => {
    const result = await run([
      '--app-id',
      APP_ID,
      '--instance-upn',
      'r@contoso.example',
      '--concurrent-invitations',
      '3',
    ]);
    expect(result.code).toBe(2);
    expect(result.err[1]).toMatch(/must be 1 or 2/);
  });
});

describe('attest', () => {
  it('answers the general usage line for an unknown command', async () => {
    const err: string[] = [];
    expect(
      await main(
        ['record'],
        () => undefined,
        (line) => err.push(line),
      ),
    ).toBe(2);
    expect(err).toEqual([
      'usage: attest <verify|teams-policy|doctor> ... (attest <command> --help)',
    ]);
  });

  it('prints help and exits 0', async () => {
    const out: string[] = [];
    expect(
      await main(
        ['teams-policy', '--help'],
        (line) => out.push(line),
        () => undefined,
      ),
    ).toBe(0);
    expect(out.join('\n')).toContain('--paired-instance-upn <upn>');
  });
});
