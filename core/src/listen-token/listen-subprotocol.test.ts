import { createListenToken } from './listen-token';
import {
  LISTEN_SUBPROTOCOL,
  listenSubprotocols,
  parseListenSubprotocols,
} from './listen-subprotocol';

const token = createListenToken(
  { sessionId: 's-1', userId: 'u-1', nowMs: Date.UTC(2030, 0, 1), tokenId: 't-1' },
  Buffer.alloc(32, 7),
);

describe('listen subprotocols', () => {
  it('offers the listen protocol first and the token second, each a valid subprotocol name', () => {
    const offers = listenSubprotocols(token);
    expect(offers[0]).toBe(LISTEN_SUBPROTOCOL);
    // RFC 7230 token characters, as a browser's WebSocket constructor requires.
    for (const offer of offers) expect(offer).toMatch(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/);
  });

  it('reads back the token and the listen protocol from the header a browser sends', () => {
    expect(parseListenSubprotocols(listenSubprotocols(token).join(', '))).toEqual({
      isListenProtocolOffered: true,
      token,
    });
  });

  it('reports a header without the listen protocol or without a token', () => {
    expect(parseListenSubprotocols(`attest.token.${token}`)).toEqual({
      isListenProtocolOffered: false,
      token,
    });
    expect(parseListenSubprotocols(LISTEN_SUBPROTOCOL)).toEqual({
      isListenProtocolOffered: true,
    });
    expect(parseListenSubprotocols(undefined)).toEqual({ isListenProtocolOffered: false });
    expect(parseListenSubprotocols('attest.token.')).toEqual({ isListenProtocolOffered: false });
  });
});
