/**
 * The one typed client of the admin API: attaches the user's token and turns problem bodies
 * (`{ code, message, status }`) into messages a person can act on.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const HINTS: Readonly<Record<number, string>> = {
  401: 'Your sign-in has expired or is not valid for this app. Sign in again.',
  403: 'Your role does not allow this, or the data is outside your scope.',
  404: 'Nothing was found there. It may belong to another tenant or have been deleted.',
  409: 'This conflicts with the current state.',
};

export class Api {
  constructor(private readonly getToken: () => Promise<string>) {}

  async request(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const token = await this.getToken();
    const response = await fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    if (response.ok) return response;
    let code = `HTTP_${response.status}`;
    let detail = response.statusText;
    try {
      const problem = (await response.json()) as { code?: string; message?: string };
      code = problem.code ?? code;
      detail = (problem.message ?? detail).replace(/^\[[A-Z_]+\]\s*/, '');
    } catch {
      // Not a problem body; the status says enough.
    }
    const hint = HINTS[response.status];
    throw new ApiError(
      response.status,
      code,
      `${hint === undefined ? '' : `${hint} `}(${response.status}: ${detail})`.trim(),
    );
  }

  async get<T>(path: string): Promise<T> {
    return (await (await this.request('GET', path)).json()) as T;
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    const response = await this.request('POST', path, { body });
    const text = await response.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  async bytes(
    path: string,
    range?: { start: number; end: number },
  ): Promise<Uint8Array<ArrayBuffer>> {
    const response = await this.request('GET', path, {
      ...(range === undefined ? {} : { headers: { range: `bytes=${range.start}-${range.end}` } }),
    });
    return new Uint8Array(await response.arrayBuffer());
  }
}
