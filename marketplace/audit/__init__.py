"""The audit log: every admin, office and liaison decision (a seller verified or suspended, a
product approved or rejected, a role granted or revoked, a household registered, consent to its
public page given or withdrawn, a supply lot deleted, a login lock lifted), appended once and
never changed: who, when, what, the object, the fields before and after.

Layer: above `regions`, below `accounts` (which records role grants) and every domain that
makes decisions; it imports none of them (users are known by their table and their id).

- `models`: the insert-only audit_entries table (the mapper and the database's triggers refuse
  UPDATE and DELETE), the actions and the kinds of object.
- `services`: `record` (in the deciding service's transaction, never committed there), the
  platform admins' filtered list and an object's own entries (`core.policy` says who may see).
- `views`: the platform admins' list at /admin/audit with its filters and a CSV export, and the
  template filter that shows an entry's fields and values in words.
"""
