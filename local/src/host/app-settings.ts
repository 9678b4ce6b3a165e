/**
 * App settings as the Functions host resolves them in binding properties: `%NAME%` is replaced
 * by the setting's value, and a `connection` names a setting that holds a connection string.
 */
export type AppSettings = Readonly<Record<string, string | undefined>>;

/** Replaces every `%NAME%` in `value`; throws naming the missing setting and the function. */
export function resolveSettingExpressions(
  value: string,
  settings: AppSettings,
  functionName: string,
): string {
  return value.replace(/%([^%]+)%/g, (_match, name: string) => {
    const resolved = settings[name];
    if (resolved === undefined || resolved === '') {
      throw new Error(`App setting ${name} used by function "${functionName}" is not set`);
    }
    return resolved;
  });
}

/**
 * The storage connection string a trigger's `connection` refers to: the named setting, or
 * `AzureWebJobsStorage` when the binding names none.
 */
export function resolveStorageConnection(
  connection: unknown,
  settings: AppSettings,
  functionName: string,
): string {
  const name =
    typeof connection === 'string' && connection !== '' ? connection : 'AzureWebJobsStorage';
  const value = settings[name] ?? settings[`AzureWebJobs${name}`];
  if (value === undefined || value === '') {
    throw new Error(
      `Function "${functionName}" needs the storage connection setting ${name}, which is not set`,
    );
  }
  return value;
}
