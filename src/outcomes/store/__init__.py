"""Storage: the database file, its schema and migrations, the monthly roll-ups, the audit log,
settings, backups and private files. Everything above reads and writes through this layer.

Kept free of imports so that ``outcomes.store.dbinfo`` stays cheap for the dashboard's start-up.
"""
