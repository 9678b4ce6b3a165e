import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { ArmTemplate } from './arm-evaluator';

const root = path.resolve(__dirname, '../../..');

/** Path of a Bicep CLI (fetched from NuGet into .data/ on first use). */
export function bicepPath(): string {
  return execFileSync('bash', [path.join(root, 'infra/tools/ensure-bicep.sh')], {
    encoding: 'utf8',
  }).trim();
}

export function compileBicep(file: string): ArmTemplate {
  const out = execFileSync(bicepPath(), ['build', path.join(root, file), '--stdout'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out) as ArmTemplate;
}

export function compileBicepParams(file: string): string {
  return execFileSync(bicepPath(), ['build-params', path.join(root, file), '--stdout'], {
    encoding: 'utf8',
  });
}

/** Deployment-time values of the required parameters; the secure ones are recognisable. */
export const deploymentParameters = {
  botAppId: '11111111-2222-3333-4444-555555555555',
  botAppSecret: 'SECURE-PARAM-bot-app-secret-value',
  mediaControlKey: 'SECURE-PARAM-media-control-key-value',
  mediaHostAdminPassword: 'SECURE-PARAM-admin-password-value',
  mediaCertificatePem: 'SECURE-PARAM-certificate-pem-value',
  packageBaseUrl: 'https://releases.example.test/attest/0.1.0',
  packageVersion: '0.1.0',
};
