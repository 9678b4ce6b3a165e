/** Simulator suites need Node to trust the local CA, which only works when set before Node starts. */
export function requireLocalCaTrust(): void {
  if (!process.env.NODE_EXTRA_CA_CERTS) {
    throw new Error(
      'simulator tests need NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem (create it with `node local/dist/simulator/ca/ensure-ca.js`)',
    );
  }
}
