#!/usr/bin/env node
/**
 * `attest`: the command-line tool shipped with the function app package.
 *   attest verify <export-dir> [--ledger-key <pem>] [--manifest-key <pem>]   offline export verifier
 *   attest teams-policy --instance-upn <upn> (--outputs <file> | --app-id <id>) [flags]
 *   attest doctor [--settings <file>] [--url <function app url>]
 * Exit codes: 0 success, 1 a check or verification failed, 2 usage error.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { parseSettingsFile, runDoctor } from './doctor/doctor';
import {
  buildTeamsPolicyScript,
  parseDeploymentOutputs,
  TeamsPolicyInputError,
} from './teams-policy';
import { runVerify } from './verify-command';

const USAGES: Record<string, string> = {
  verify: 'usage: attest verify <export-dir> [--ledger-key <pem>] [--manifest-key <pem>]',
  'teams-policy':
    'usage: attest teams-policy --instance-upn <upn> (--outputs <file> | --app-id <id>) [options] (attest teams-policy --help)',
  doctor:
    'usage: attest doctor [--settings <file>] [--url <function app url>] [--cert-warning-days <n>]',
};
const GENERAL_USAGE = 'usage: attest <verify|teams-policy|doctor> ... (attest <command> --help)';

export interface CliEnvironment {
  /** The process environment: doctor's settings when no file is given. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

export async function main(
  argv: readonly string[],
  out: (line: string) => void,
  err: (line: string) => void,
  environment: CliEnvironment = { env: {} },
): Promise<number> {
  let code = 0;
  const program = new Command('attest').exitOverride().configureOutput({
    writeOut: (text) =>
      text
        .trimEnd()
        .split('\n')
        .forEach((line) => out(line)),
    writeErr: (text) =>
      text
        .trimEnd()
        .split('\n')
        .forEach((line) => err(line)),
    // Usage errors print our one-line usage instead (below).
    outputError: () => undefined,
  });

  program
    .command('verify')
    .description(
      'verify an export package offline (hashes, signatures, ledger chain, completeness)',
    )
    .argument('<export-dir>')
    .option('--ledger-key <pem>', 'pinned ledger public key (PEM or JWK file)')
    .option('--manifest-key <pem>', 'pinned manifest public key (PEM or JWK file)')
    .action(async (dir: string, options: { ledgerKey?: string; manifestKey?: string }) => {
      code = await runVerify(dir, options, out, err);
    });

  program
    .command('teams-policy')
    .description('write the Teams PowerShell that points Teams at this deployment')
    .requiredOption(
      '--instance-upn <upn>',
      'resource account of the recorder (created when missing)',
    )
    .addOption(
      new Option(
        '--outputs <file>',
        'deployment outputs JSON (az deployment group show --query properties.outputs)',
      ).conflicts('appId'),
    )
    .option('--app-id <id>', "the bot's application id, instead of --outputs")
    .option(
      '--display-name <name>',
      'display name of the resource account',
      'Attest compliance recorder',
    )
    .option('--policy-name <name>', 'compliance recording policy name', 'AttestComplianceRecording')
    .option('--no-required-before-call', 'let calls start when no recorder answers')
    .option('--no-required-during-call', 'keep calls going when every recorder leaves')
    .option('--no-required-before-meeting-join', 'let users join meetings when no recorder answers')
    .option('--no-required-during-meeting', 'keep users in meetings when every recorder leaves')
    .option(
      '--concurrent-invitations <n>',
      'recorder instances invited per call (1 or 2)',
      parseInvitations,
      1 as 1 | 2,
    )
    .option(
      '--paired-instance-upn <upn>',
      'resource account of a paired recorder (another deployment)',
    )
    .option('--warn-user-on-removal', 'warn users when the recorder leaves')
    .option('--disable-audio-notification-for-calls', 'no spoken recording notice in 1:1 calls')
    .option(
      '--record-rerouted-calls',
      'record calls rerouted (forwarded, transferred) to a recorded user',
    )
    .option('--grant-user <upn>', 'record this user (repeatable)', collect, [] as string[])
    .option(
      '--grant-group <id>',
      'record this group by object id (repeatable; rank follows order)',
      collect,
      [] as string[],
    )
    .option('--grant-global', 'record everyone in the tenant')
    .option('--out <file>', 'write the script here instead of standard output')
    .action((options: TeamsPolicyFlags) => {
      code = writeTeamsPolicy(options, out, err);
    });

  program
    .command('doctor')
    .description(
      'check a deployment (or the local stack) end to end, one line per check with its fix',
    )
    .option(
      '--settings <file>',
      "the function app's settings (JSON object, az functionapp config appsettings list, or local.settings.json); default: the environment",
    )
    .option('--url <url>', 'base URL of the function app (default ATTEST_PUBLIC_BASE_URL)')
    .option(
      '--cert-warning-days <n>',
      'fail a media certificate ending sooner than this',
      parseDays,
      30,
    )
    .option(
      '--since <time>',
      'summarise invites since this ISO 8601 time (default: the last 24 hours)',
      parseTime,
    )
    .action(
      async (options: {
        settings?: string;
        url?: string;
        certWarningDays: number;
        since?: Date;
      }) => {
        let settings = environment.env;
        if (options.settings !== undefined) {
          try {
            settings = parseSettingsFile(readFileSync(options.settings, 'utf8'));
          } catch {
            err(`cannot read settings from ${options.settings}`);
            code = 2;
            return;
          }
        }
        code = await runDoctor(
          {
            settings,
            ...(options.url !== undefined ? { url: options.url } : {}),
            certificateWarningInDays: options.certWarningDays,
            ...(options.since !== undefined ? { invitesSince: options.since } : {}),
          },
          out,
        );
      },
    );

  if (argv.length === 0) {
    err(GENERAL_USAGE);
    return 2;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return 0; // --help, --version
    err(USAGES[argv[0] ?? ''] ?? GENERAL_USAGE);
    if (error.code === 'commander.invalidArgument' || error.code === 'commander.conflictingOption')
      err(error.message.replace(/^error: /, ''));
    return 2;
  }
  return code;
}

interface TeamsPolicyFlags {
  instanceUpn: string;
  outputs?: string;
  appId?: string;
  displayName: string;
  policyName: string;
  requiredBeforeCall: boolean;
  requiredDuringCall: boolean;
  requiredBeforeMeetingJoin: boolean;
  requiredDuringMeeting: boolean;
  concurrentInvitations: 1 | 2;
  pairedInstanceUpn?: string;
  warnUserOnRemoval?: boolean;
  disableAudioNotificationForCalls?: boolean;
  recordReroutedCalls?: boolean;
  grantUser: string[];
  grantGroup: string[];
  grantGlobal?: boolean;
  out?: string;
}

function writeTeamsPolicy(
  flags: TeamsPolicyFlags,
  out: (line: string) => void,
  err: (line: string) => void,
): number {
  try {
    let outputs;
    if (flags.outputs !== undefined) {
      let text: string;
      try {
        text = readFileSync(flags.outputs, 'utf8');
      } catch {
        throw new TeamsPolicyInputError(`cannot read ${flags.outputs}`);
      }
      outputs = parseDeploymentOutputs(text);
    } else if (flags.appId !== undefined) outputs = { botAppId: flags.appId };
    else throw new TeamsPolicyInputError('give --outputs <file> or --app-id <id>');
    const script = buildTeamsPolicyScript(outputs, {
      instanceUpn: flags.instanceUpn,
      displayName: flags.displayName,
      policyName: flags.policyName,
      requiredBeforeCallEstablishment: flags.requiredBeforeCall,
      requiredDuringCall: flags.requiredDuringCall,
      requiredBeforeMeetingJoin: flags.requiredBeforeMeetingJoin,
      requiredDuringMeeting: flags.requiredDuringMeeting,
      concurrentInvitationCount: flags.concurrentInvitations,
      ...(flags.pairedInstanceUpn !== undefined
        ? { pairedInstanceUpn: flags.pairedInstanceUpn }
        : {}),
      warnUserOnRemoval: flags.warnUserOnRemoval === true,
      disableAudioNotificationForCalls: flags.disableAudioNotificationForCalls === true,
      recordReroutedCalls: flags.recordReroutedCalls === true,
      grantUsers: flags.grantUser,
      grantGroups: flags.grantGroup,
      grantGlobal: flags.grantGlobal === true,
    });
    if (flags.out !== undefined) {
      writeFileSync(flags.out, script);
      err(`wrote ${flags.out}`);
    } else
      script
        .trimEnd()
        .split('\n')
        .forEach((line) => out(line));
    return 0;
  } catch (error) {
    if (!(error instanceof TeamsPolicyInputError)) throw error;
    err(`attest teams-policy: ${error.message}`);
    return 2;
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseInvitations(value: string): 1 | 2 {
  if (value !== '1' && value !== '2') throw new InvalidArgumentError('must be 1 or 2');
  return value === '1' ? 1 : 2;
}

function parseTime(value: string): Date {
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw new InvalidArgumentError('must be an ISO 8601 time');
  return time;
}

function parseDays(value: string): number {
  const days = Number(value);
  if (!Number.isInteger(days) || days < 0 || days > 365)
    throw new InvalidArgumentError('must be a whole number of days from 0 to 365');
  return days;
}

if (require.main === module) {
  main(
    process.argv.slice(2),
    (line) => process.stdout.write(`${line}\n`),
    (line) => process.stderr.write(`${line}\n`),
    { env: process.env },
  ).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `attest: ${error instanceof Error ? error.message : 'unexpected failure'}\n`,
      );
      process.exit(2);
    },
  );
}
