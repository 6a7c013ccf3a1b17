"""The group edition: many clinics' records synced to one PostgreSQL database
(:mod:`.sync`), and reports computed there (:mod:`.reports`, :mod:`.packet`).

psycopg is imported only by the functions that talk to PostgreSQL: a clinic that never syncs
never loads it, and needs no server."""
