"""What every domain shares, and nothing domain-specific: money in fen, domain errors, time in
China, database helpers (SQLite settings, dialect twins, loaded objects), i18n, forms' error
handling, the pager, roles and the policy primitives.

Layer: the bottom (only `extensions` and `config` below it): core imports no domain, which
the import-linter contracts in pyproject.toml check.

- `money`, `errors`, `time`, `validators`, `models` (shared column types and mixins).
- `db`: SQLite WAL and write intent, `use_twin` (a hot path's dialect twin, when its benchmark
  earned it), `driver_execute`, loaded objects from Core rows.
- `i18n` (Msg, catalogues), `templating`, `errorhandlers` (one error page, JSON under /api).
- `forms` (the one view idiom: `submit`, `commit_or_flash`), `pager` (Page, ?page=).
- `roles`, `policy` (role decorators and object rules: 404 for others' objects).
"""
