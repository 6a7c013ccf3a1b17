"""Moving records in and out: CSV reading, the kinds of record and their columns, import and
export."""
