"""The packet as one self-contained HTML file: inline CSS, charts as inline SVG, no scripts,
no external references. Every piece of text is escaped (a partner name is shown as typed)."""

from __future__ import annotations

from html import escape

from outcomes.documents.packets.charts import step_table, svg
from outcomes.documents.packets.content import Packet, Table

_CSS = """
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;color:#000;background:#fff;
max-width:52em;margin:2em auto;padding:0 1em;font-size:15px;line-height:1.45}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin:1.4em 0 .4em}
.clinic{font-size:1.3em;font-weight:bold}.contact{font-size:.9em}
hr{border:0;border-top:2px solid #000}
table{border-collapse:collapse;width:100%;margin:.5em 0 1em;font-size:.9em}
th,td{border:1px solid #000;padding:.25em .4em;text-align:left;vertical-align:top}
th{background:#e1e1e1}.methods{font-size:.85em}svg{max-width:100%;height:auto;display:block;
margin:.5em 0 1em}
@media print{body{margin:0;max-width:none}}
"""


def _table(data: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in data.header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in data.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(packet: Packet) -> str:
    who = packet.partner_name + (f" ({packet.partner_detail})" if packet.partner_detail else "")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(packet.title)}: {escape(packet.partner_name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f'<div class="clinic">{escape(packet.clinic_name)}</div>',
        f'<div class="contact">{escape(packet.clinic_contact)}</div><hr>',
        f"<h1>{escape(packet.title)}</h1>",
        f"<p>For: {escape(who)}<br>",
        f"Patients referred: {escape(packet.period_label)}. {escape(packet.prepared_label)}.</p>",
        "<h2>Summary</h2><ul>",
        *(f"<li>{escape(s)}</li>" for s in packet.summary),
        "</ul><h2>Key figures</h2>",
        _table(packet.key_figures),
    ]
    if packet.conditions.rows:
        parts += ["<h2>Outcomes by condition</h2>", _table(packet.conditions)]
    if packet.outcomes.rows:
        parts += ["<h2>Outcomes by measure</h2>", _table(packet.outcomes)]
    if packet.adjusted:
        parts += ["<h2>Compared with what the clinic's model expects</h2><ul>",
                  *(f"<li>{escape(s)}</li>" for s in packet.adjusted), "</ul>"]
    if packet.charts or packet.recovery_chart:
        parts.append("<h2>Charts</h2>")
    if packet.recovery_chart is not None:
        # The table is the chart's text equivalent (screen readers, and a fax of the page
        # that loses the grey line).
        chart = packet.recovery_chart
        parts += [svg(chart, 640, 240),
                  f"<p>{escape(chart.title)}: {escape(chart.y_label)} by "
                  f"{escape(chart.x_label)}. {escape(chart.note)}</p>",
                  _table(step_table(chart))]
    parts += [svg(chart, 640, 220) for chart in packet.charts]
    parts.append('<h2>Methods</h2><div class="methods">')
    parts += [f"<p>{escape(note)}</p>" for note in packet.methods]
    parts.append("</div></body></html>")
    return "\n".join(parts) + "\n"
