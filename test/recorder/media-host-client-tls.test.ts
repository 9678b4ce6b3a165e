/**
 * The function app's client of the media host control API over HTTPS: the certificate must chain
 * to a trusted CA (here the simulator's, through NODE_EXTRA_CA_CERTS) and name the URL's host, or,
 * with a certificate domain configured (Azure: hosts reached by private address, certificates
 * issued for their public names), name a host in that domain. The key never goes out in clear.
 */
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { issueServerCertificate } from '../../local/src/simulator/ca/ensure-ca';
import {
  certificateNamesHostIn,
  MediaHostClient,
} from '../../functions/src/adapters/media-host-client';
import { localCaTls } from '../media-host/media-host-fixtures';
import { selfSigned } from './support/self-signed';

const KEY = 'control-key-for-tls-tests-0123';

interface TlsHost {
  readonly url: string;
  readonly seenKeys: string[];
  close(): Promise<void>;
}

async function startHost(tls: { cert: string; key: string }): Promise<TlsHost> {
  const seenKeys: string[] = [];
  const server: Server = createServer(tls, (req: IncomingMessage, res) => {
    seenKeys.push(req.headers.authorization ?? '');
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"isDraining":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seenKeys,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const client = (certificateDomain?: string): MediaHostClient =>
  new MediaHostClient({
    controlKey: KEY,
    timeoutInMs: 5_000,
    ...(certificateDomain !== undefined
      ? { certificateDomains: ['other.example', certificateDomain] }
      : {}),
  });

describe('media host control client over TLS', () => {
  let local: TlsHost;
  let named: TlsHost;
  const clients: MediaHostClient[] = [];
  const make = (domain?: string): MediaHostClient => {
    const c = client(domain);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    local = await startHost(localCaTls());
    // A host reached by address whose certificate carries its public name only (as in Azure).
    const issued = issueServerCertificate({ dnsNames: ['mh-0.media.example'] });
    named = await startHost({ cert: issued.certPem, key: issued.keyPem });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await local.close();
    await named.close();
  });

  it('calls a host whose certificate from a trusted CA names the URL host', async () => {
    await expect(make().setDraining(local.url, true)).resolves.toBeUndefined();
    expect(local.seenKeys.at(-1)).toBe(`Bearer ${KEY}`);
  });

  it('refuses a certificate that does not name the URL host when no domain is configured', async () => {
    const before = named.seenKeys.length;
    await expect(make().setDraining(named.url, true)).rejects.toThrow('ATT_MEDIA_HOST_UNAVAILABLE');
    expect(named.seenKeys).toHaveLength(before);
  });

  it('accepts a certificate naming a host in the configured domain, reached by address', async () => {
    await expect(make('media.example').setDraining(named.url, false)).resolves.toBeUndefined();
    expect(named.seenKeys.at(-1)).toBe(`Bearer ${KEY}`);
  });

  it('refuses a certificate naming no host in the configured domain, before sending the key', async () => {
    const before = local.seenKeys.length;
    await expect(make('media.example').setDraining(local.url, true)).rejects.toThrow(
      'ATT_MEDIA_HOST_UNAVAILABLE',
    );
    expect(local.seenKeys).toHaveLength(before);
  });

  it('refuses a self-signed certificate that no trusted CA issued', async () => {
    const rogue = await startHost(selfSigned('mh-0.media.example'));
    try {
      await expect(make('media.example').setDraining(rogue.url, true)).rejects.toThrow(
        'ATT_MEDIA_HOST_UNAVAILABLE',
      );
      expect(rogue.seenKeys).toEqual([]);
    } finally {
      await rogue.close();
    }
  });

  it('never sends the key over plain HTTP to another machine', async () => {
    const seen: string[] = [];
    const plain = createHttpServer((req, res) => {
      seen.push(req.headers.authorization ?? '');
      res.writeHead(200).end('{}');
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const port = (plain.address() as AddressInfo).port;
    try {
      // 127.0.0.1 by another name is still refused: only a loopback host name or address passes.
      await expect(make().setDraining(`http://10.0.0.4:${port}`, true)).rejects.toThrow(
        'ATT_MEDIA_HOST_UNAVAILABLE',
      );
      await expect(make().setDraining(`http://127.0.0.1:${port}`, true)).resolves.toBeUndefined();
      expect(seen).toEqual([`Bearer ${KEY}`]);
    } finally {
      plain.closeAllConnections();
      await new Promise<void>((resolve) => plain.close(() => resolve()));
    }
  });
});

describe('certificateNamesHostIn', () => {
  const certOf = (dnsNames: string[]) => {
    const { certPem } = issueServerCertificate({ dnsNames });
    return { subjectaltname: new X509Certificate(certPem).subjectAltName } as never;
  };

  it('accepts one label under the domain or a wildcard of it', () => {
    expect(certificateNamesHostIn(certOf(['mh-0.media.example']), 'media.example')).toBe(true);
    expect(certificateNamesHostIn(certOf(['*.media.example']), 'Media.Example')).toBe(true);
  });

  it('refuses the domain itself, a deeper name, or a name that only ends like it', () => {
    expect(certificateNamesHostIn(certOf(['media.example']), 'media.example')).toBe(false);
    expect(certificateNamesHostIn(certOf(['a.b.media.example']), 'media.example')).toBe(false);
    expect(certificateNamesHostIn(certOf(['mh-0.evilmedia.example']), 'media.example')).toBe(false);
  });
});
