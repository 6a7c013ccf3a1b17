"""What marks a database file as ours, and the schema version this app writes.

Kept apart from ``schema`` (which needs sqlite-utils) so that the dashboard's start-up path can
check a file with the standard library alone. A test keeps SCHEMA_VERSION equal to the number of
migrations.
"""

# 'OUTC' as a 32-bit integer: marks the file as ours (PRAGMA application_id).
APPLICATION_ID = 0x4F555443

# The number of migrations in ``outcomes.store.schema`` (stored as PRAGMA user_version).
SCHEMA_VERSION = 13
