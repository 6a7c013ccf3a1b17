"""The packet as Markdown: the same content as the PDF, charts given as small tables.

Text is escaped so that a partner name with Markdown characters (``*``, ``_``, ``[``) renders as
typed."""

from __future__ import annotations

import re

from outcomes.documents.packets.charts import step_table, value_label
from outcomes.documents.packets.content import Chart, Packet, Table

_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def md_escape(text: str) -> str:
    """Escape Markdown syntax so the text renders literally (and cannot break a table)."""
    return _SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def _table(data: Table) -> list[str]:
    lines = ["| " + " | ".join(md_escape(h) or " " for h in data.header) + " |",
             "|" + "---|" * len(data.header)]
    lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in data.rows]
    return [*lines, ""]


def _chart(chart: Chart) -> list[str]:
    rows = []
    for i, category in enumerate(chart.categories):
        note = chart.category_notes[i] if i < len(chart.category_notes) else ""
        label = f"{category} {note}".strip()
        rows.append([label, *("*" if v is None else value_label(v, chart.unit)
                              for v in chart.values[i])])
    lines = [f"**{md_escape(chart.title)}**", "", *_table(Table(["", *chart.series], rows))]
    if chart.note:
        lines += [md_escape("* " + chart.note), ""]
    return lines


def render_markdown(packet: Packet) -> str:
    who = packet.partner_name + (f" ({packet.partner_detail})" if packet.partner_detail else "")
    lines = [
        f"# {md_escape(packet.clinic_name)}", "",
        md_escape(packet.clinic_contact), "",
        f"## {md_escape(packet.title)}", "",
        f"For: {md_escape(who)}  ",
        f"Patients referred: {md_escape(packet.period_label)}. "
        f"{md_escape(packet.prepared_label)}.", "",
        "### Summary", "",
        *(f"- {md_escape(s)}" for s in packet.summary), "",
        "### Key figures", "",
        *_table(packet.key_figures),
    ]
    if packet.conditions.rows:
        lines += ["### Outcomes by condition", "", *_table(packet.conditions)]
    if packet.outcomes.rows:
        lines += ["### Outcomes by measure", "", *_table(packet.outcomes)]
    if packet.adjusted:
        lines += ["### Compared with what the clinic's model expects", "",
                  *(f"- {md_escape(s)}" for s in packet.adjusted), ""]
    if packet.charts or packet.recovery_chart:
        lines += ["### Charts", ""]
    if packet.recovery_chart is not None:
        chart = packet.recovery_chart
        lines += [f"**{md_escape(chart.title)}: {md_escape(chart.y_label)}, by "
                  f"{md_escape(chart.x_label)}**", "", *_table(step_table(chart)),
                  md_escape(chart.note), ""]
    if packet.charts:
        for bar_chart in packet.charts:
            lines += _chart(bar_chart)
    lines += ["### Methods", ""]
    for note in packet.methods:
        lines += [md_escape(note), ""]
    return "\n".join(lines).rstrip() + "\n"
