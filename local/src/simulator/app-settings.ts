/**
 * The function app's settings that point it at a running simulator: its bot registration, the
 * tenants it serves, the webhook token metadata, Graph and Entra, and the admin token issuer.
 * One place for `npm start`, the end-to-end tests and the benchmarks.
 */
export interface SimulatorEndpoints {
  readonly url: string;
  readonly webhookOpenIdConfigurationUrl: string;
}

export function functionAppSettingsFor(
  sim: SimulatorEndpoints,
  bot: { readonly appId: string; readonly clientSecret: string },
  tenants: { readonly served: readonly string[]; readonly home: string },
): Record<string, string> {
  return {
    ATTEST_APP_ID: bot.appId,
    ATTEST_APP_SECRET: bot.clientSecret,
    ATTEST_SERVED_TENANT_IDS: tenants.served.join(','),
    ATTEST_WEBHOOK_OPENID_METADATA_URL: sim.webhookOpenIdConfigurationUrl,
    ATTEST_GRAPH_BASE_URL: sim.url,
    ATTEST_ENTRA_AUTHORITY_HOST: sim.url,
    ATTEST_ADMIN_OPENID_METADATA_URL: `${sim.url}/${tenants.home}/v2.0/.well-known/openid-configuration`,
    ATTEST_ADMIN_ISSUERS: `${sim.url}/${tenants.home}/v2.0`,
    // The home tenant runs the deployment: only its users can be operators (fleet, configuration).
    ATTEST_OPERATOR_TENANT_ID: tenants.home,
  };
}
