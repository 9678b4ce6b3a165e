import { EnvReader } from '@attest/core';
import { DEFAULT_RETENTION_POLICY, readArchiveConfig } from './archive-config';

function read(env: Record<string, string>) {
  const reader = new EnvReader(env);
  const config = readArchiveConfig(reader);
  return { config, assert: () => reader.assertValid() };
}

describe('readArchiveConfig', () => {
  it('defaults to seven years, daily retention and hourly checkpoints', () => {
    const { config, assert } = read({});
    assert();
    expect(config).toMatchObject({
      retentionPolicy: DEFAULT_RETENTION_POLICY,
      retentionSchedule: '0 0 2 * * *',
      checkpointSchedule: '0 0 * * * *',
      approvalTimeoutInMs: 14 * 86_400_000,
    });
  });

  it('reads retention classes given as JSON', () => {
    const policy = {
      defaultClassName: 'mifid',
      classes: [{ name: 'mifid', periodInDays: 1826, dispositionMode: 'approval' }],
      rules: [],
    };
    const { config, assert } = read({ ATTEST_ARCHIVE_RETENTION_CLASSES: JSON.stringify(policy) });
    assert();
    expect(config.retentionPolicy).toEqual(policy);
  });

  it('reports every bad key at once without echoing values', () => {
    const { assert } = read({
      ATTEST_ARCHIVE_RETENTION_CLASSES: '{"classes":[],"rules":[],"defaultClassName":"x"}',
      ATTEST_ARCHIVE_RETENTION_SCHEDULE: 'daily',
      ATTEST_ARCHIVE_RBAC_SCOPES: '{"a":"b"}',
    });
    expect(assert).toThrow(
      /ATTEST_ARCHIVE_RETENTION_CLASSES: the default retention class x is not defined; ATTEST_ARCHIVE_RETENTION_SCHEDULE must be a six-field NCRONTAB expression; ATTEST_ARCHIVE_RBAC_SCOPES must map ids to arrays of strings/,
    );
  });

  it('refuses a retention file that does not exist', () => {
    expect(read({ ATTEST_ARCHIVE_RETENTION_CLASSES: '/nonexistent/classes.json' }).assert).toThrow(
      'ATTEST_ARCHIVE_RETENTION_CLASSES is neither JSON nor a readable file',
    );
  });
});
