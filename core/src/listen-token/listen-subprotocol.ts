/**
 * How a listener presents its listen token without putting it in the URL: a browser cannot set
 * headers on a WebSocket, but it can offer subprotocols (`new WebSocket(url, protocols)`), which
 * travel in the `Sec-WebSocket-Protocol` header of the opening handshake (RFC 6455 §4.1, §11.3.4)
 * inside the TLS connection, never in a URL, a proxy's access log or the browser's history.
 *
 * The client offers two: {@link LISTEN_SUBPROTOCOL} (the protocol it speaks; the server selects
 * and echoes it, so the token is never echoed) and `attest.token.<listen token>`. The token's
 * characters (`alt1.<base64url>.<base64url>`) are all allowed in a subprotocol name.
 */

/** The listen-in protocol (docs/media-formats.md §4); the server answers with this one. */
export const LISTEN_SUBPROTOCOL = 'attest.listen.v1';
/** Prefix of the subprotocol that carries the listen token. */
export const LISTEN_TOKEN_SUBPROTOCOL_PREFIX = 'attest.token.';

/** The subprotocols a client offers for `token`, in order. */
export function listenSubprotocols(token: string): readonly [string, string] {
  return [LISTEN_SUBPROTOCOL, `${LISTEN_TOKEN_SUBPROTOCOL_PREFIX}${token}`];
}

/** What a `Sec-WebSocket-Protocol` header offers. */
export interface OfferedListenSubprotocols {
  /** Whether {@link LISTEN_SUBPROTOCOL} is among the offers. */
  readonly isListenProtocolOffered: boolean;
  /** The token of the first `attest.token.` offer, if any. */
  readonly token?: string;
}

/** Reads the offers of a `Sec-WebSocket-Protocol` header (comma-separated, RFC 6455 §4.1). */
export function parseListenSubprotocols(header: string | undefined): OfferedListenSubprotocols {
  const offers = (header ?? '')
    .split(',')
    .map((offer) => offer.trim())
    .filter((offer) => offer !== '');
  const tokenOffer = offers.find((offer) => offer.startsWith(LISTEN_TOKEN_SUBPROTOCOL_PREFIX));
  const token = tokenOffer?.slice(LISTEN_TOKEN_SUBPROTOCOL_PREFIX.length);
  return {
    isListenProtocolOffered: offers.includes(LISTEN_SUBPROTOCOL),
    ...(token !== undefined && token !== '' ? { token } : {}),
  };
}
