"""The group edition: many clinics' records synced to one PostgreSQL database
(:mod:`.sync`), and reports computed there (:mod:`.reports`, :mod:`.packet`).

psycopg is imported only by the functions that talk to PostgreSQL, so a clinic that never syncs
needs neither the driver nor a server."""
