/** The test client's WebSocket codec (RFC 6455 framing) that the live listen-in suites use. */
import { WsFrameParser, WsOpcode, encodeWsFrame, websocketAccept } from '../../media-host/testing';

describe('WebSocket codec', () => {
  it('computes the accept value of the RFC 6455 handshake example', () => {
    expect(websocketAccept('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it.each([0, 125, 126, 65_535, 65_536])(
    'round-trips a masked %i-byte binary frame split across chunks',
    (size) => {
      const payload = Buffer.alloc(size, 0xab);
      const wire = encodeWsFrame(WsOpcode.binary, payload, Buffer.from([1, 2, 3, 4]));
      const parser = new WsFrameParser(true, 1 << 20);
      const frames = [
        ...parser.push(wire.subarray(0, 3)).frames,
        ...parser.push(wire.subarray(3)).frames,
      ];
      expect(frames).toEqual([{ fin: true, opcode: WsOpcode.binary, payload }]);
    },
  );

  it('refuses an unmasked frame from a client', () => {
    const result = new WsFrameParser(true, 1024).push(
      encodeWsFrame(WsOpcode.text, Buffer.from('x')),
    );
    expect(result.error).toEqual({ closeCode: 1002, reason: 'client frames must be masked' });
  });

  it('refuses a frame larger than the limit before buffering it', () => {
    const head = encodeWsFrame(WsOpcode.binary, Buffer.alloc(70_000), Buffer.alloc(4)).subarray(
      0,
      14,
    );
    expect(new WsFrameParser(true, 4096).push(head).error?.closeCode).toBe(1009);
  });

  it('refuses a fragmented control frame', () => {
    const wire = encodeWsFrame(WsOpcode.ping, Buffer.alloc(2), Buffer.alloc(4), false);
    expect(new WsFrameParser(true, 4096).push(wire).error?.reason).toBe('bad control frame');
  });
});
