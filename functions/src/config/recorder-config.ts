import type { ConfigReader } from './config-reader';

/** Settings of the recorder (webhook, Graph, media hosts). Owned by the recorder core. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface RecorderConfig {}

export function readRecorderConfig(_reader: ConfigReader): RecorderConfig {
  return {};
}
