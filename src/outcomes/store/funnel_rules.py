"""The referral funnel's stages as SQL: the one statement of the rule.

The roll-up triggers and backfill (``store.schema``, migration 0012) and the edge days of a
period (``reports.rollups.funnels``) read these expressions. Standard library only.
"""

from __future__ import annotations

# One stage per column of ``roll_funnel``, in the order of ``network.frontdesk.Funnel``: each
# stage counts the referrals that reached it or went further.
FUNNEL_STAGES = (
    ("received", "1"),
    ("scheduled", "{r}status IN ('scheduled','evaluated','in_care','discharged')"
                  " OR {r}scheduled_date IS NOT NULL OR {r}first_visit_date IS NOT NULL"),
    ("evaluated", "{r}status IN ('evaluated','in_care','discharged')"
                  " OR {r}first_visit_date IS NOT NULL"),
    ("completed", "{r}status = 'discharged'"),
    ("self_discharged", "{r}status = 'discharged' AND {r}discharge_reason = 'self_discharged'"),
    ("waiting", "{r}status = 'received'"),
    ("cancelled", "{r}status = 'cancelled'"),
)
UNSCHEDULED_REASON = "coalesce(trim({r}status_reason), '')"
"""A not-scheduled referral's reason as the funnel counts it ('' for none or blank)."""


def funnel_stage_sql(row: str = "") -> list[str]:
    """The stage expressions over the columns of ``row`` ("new.", "old." or "" for a table),
    each 0 or 1: a comparison with a NULL column is NULL, which a trigger cannot add."""
    return [f"coalesce({sql.format(r=row)}, 0)" for _, sql in FUNNEL_STAGES]


__all__ = ["FUNNEL_STAGES", "UNSCHEDULED_REASON", "funnel_stage_sql"]
