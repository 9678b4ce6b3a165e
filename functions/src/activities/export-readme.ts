/** The README placed at the root of every export package. */
export const EXPORT_README = `# Attest export package (format version 1)

This folder is a self-contained, verifiable copy of archived Teams interactions.

- export.json                 index: what was selected, every interaction with the hashes of its files
- interactions/<tenant>/<id>/ metadata.json (the interaction record), manifest.json and manifest.sig
                              (as signed by the media host), media/<stream>.<ext> (decrypted media)
- completeness.json / .sig    every invite in the selection and what became of it, signed
- ledger/entries.jsonl        the ledger entries from the first one about these interactions up to the
                              entry that records this export; ledger/checkpoints.json signs the head
- keys/                       the public keys that verify the signatures (compare their fingerprints
                              with the ones your organisation published)

Verify it offline:   npx attest verify <this folder>
The verifier checks every block hash against the signed manifests, every hash chain and Merkle
root, the manifest signatures, every ledger link and checkpoint signature, the completeness report
signature, and that every interaction the report lists is present or has a reason. It exits 0
only when everything passes and otherwise prints each failure with its location.

The format is described in full in docs/export-format.md of the Attest source.
`;
