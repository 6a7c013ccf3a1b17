"""Outcome measures: instrument definitions, scoring as published, stored responses and their
per-episode summary, NPS answers, rescoring."""
