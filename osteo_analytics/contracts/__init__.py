"""The data contracts of the canonical datasets (ODCS v3.1 files of `data_contracts/`).

- `model`: the files read into typed objects: columns and types, what pseudonymize keeps,
  code lists and their French labels (the vocabulary every stage reads);
- `sql`: the SQL text of the rules;
- `checks`: every rule of a contract run over a table, failing rows without values.

Nothing is imported here, so reading the vocabulary does not load the checker.
"""
