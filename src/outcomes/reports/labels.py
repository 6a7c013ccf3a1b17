"""Short names of scales for tables and charts."""

from __future__ import annotations

SHORT_LABELS = {
    "gph": "PROMIS-10 physical",
    "gmh": "PROMIS-10 mental",
    "quickdash_sports": "QuickDASH sports",
    "quickdash_work": "QuickDASH work",
}
"""Scales whose own name is too long for a table cell."""


def short_label(name: str, scale_id: str) -> str:
    """A scale's name as a table reads it: "ODI" for odi, "NDI" for "NDI (%)"."""
    if scale_id in SHORT_LABELS:
        return SHORT_LABELS[scale_id]
    plain = name.split(" (")[0].strip()
    return plain if 0 < len(plain) <= 18 else scale_id.upper()


def scale_labels() -> dict[str, str]:
    """Scale id -> short label for every scale (and instrument id) in the catalog. Loads the
    survey definitions (pydantic), so call it from a worker."""
    from outcomes.measures import catalog

    labels: dict[str, str] = {}
    for instrument in catalog.instruments().values():
        for scale_id, scale in instrument.scales.items():
            labels[scale_id] = short_label(scale.name, scale_id)
        if instrument.id not in labels:
            labels[instrument.id] = (
                "PROMIS-10" if instrument.id == "promis10"
                else short_label(instrument.name, instrument.id))
    return labels


