"""The Textual front end of outcomes. It calls the core (``outcomes``); never the reverse."""
