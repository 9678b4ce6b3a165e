/**
 * The CLI's entry as earlier releases named it; the program lives in `attest.ts`.
 */
export { main } from './attest';
