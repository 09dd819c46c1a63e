"""Pseudonymization (DESIGN.md, invariant 3): nothing identifying after this stage.

- `primitives`: keyed pseudonyms (HMAC-SHA256 under HKDF-derived domain keys), generated
  invoice numbers, birth year, département, name folding;
- `motifs`: free-text consultation reasons → a controlled category, at read time;
- `stage`: stage-1 source tables → the canonical, pseudonymized tables.

Nothing is imported here: the adapters use the primitives, and the stage uses the adapters'
tables, so the package itself must not pull in either.
"""
