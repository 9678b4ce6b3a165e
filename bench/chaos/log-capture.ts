/**
 * Captures every line the campaign's processes write (the function app, the durable engine, the
 * media host and the simulator all run in this process and log to stdout/stderr), so the
 * secrets scan reads every log line of the campaign. Progress goes to the real stdout.
 */
export interface LogCapture {
  readonly lines: string[];
  /** Writes to the real stdout, not captured. */
  print(text: string): void;
  /** Puts the real writers back; idempotent. */
  restore(): void;
}

export function captureProcessOutput(): LogCapture {
  const lines: string[] = [];
  const realStdout = process.stdout.write.bind(process.stdout);
  const realStderr = process.stderr.write.bind(process.stderr);
  let partial = '';
  const capture = (chunk: unknown): boolean => {
    const text =
      partial + (typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString());
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) if (line !== '') lines.push(line);
    return true;
  };
  process.stdout.write = capture;
  process.stderr.write = capture;
  let isRestored = false;
  return {
    lines,
    print: (text) => void realStdout(text),
    restore() {
      if (isRestored) return;
      isRestored = true;
      if (partial !== '') lines.push(partial);
      process.stdout.write = realStdout;
      process.stderr.write = realStderr;
    },
  };
}
