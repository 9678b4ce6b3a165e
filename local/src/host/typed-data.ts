/**
 * Conversions between JavaScript values and the worker's RPC typed data, as the Functions host
 * sends and receives them.
 */
import type { CoreTypedData } from './functions-core';

/** A JSON value sent as the host sends JSON-serialised binding data. */
export function jsonData(value: unknown): CoreTypedData | undefined {
  return value === undefined ? undefined : { json: JSON.stringify(value) };
}

export function stringData(value: string): CoreTypedData {
  return { string: value };
}

export function bytesData(value: Uint8Array): CoreTypedData {
  return { bytes: value };
}

/**
 * The JavaScript value of a typed-data result the worker returned. Strings stay strings (the
 * handler returned a string); JSON is parsed; bytes become a Buffer.
 */
export function fromTypedData(data: CoreTypedData | null | undefined): unknown {
  if (data === null || data === undefined) return undefined;
  if (data.string !== undefined && data.string !== null) return data.string;
  if (data.json !== undefined && data.json !== null) return JSON.parse(data.json) as unknown;
  if (data.bytes !== undefined && data.bytes !== null) return Buffer.from(data.bytes);
  if (data.stream !== undefined && data.stream !== null) return Buffer.from(data.stream);
  if (data.int !== undefined && data.int !== null) return Number(data.int);
  if (data.double !== undefined && data.double !== null) return data.double;
  if (data.http !== undefined && data.http !== null) return data.http;
  return undefined;
}
