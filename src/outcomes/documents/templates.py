"""Letter templates: one plain-text file per letter kind, which a clinic can adjust.

A clinic's own template is ``<config folder>/letters/<kind>.txt`` (``outcomes letter-template
KIND`` prints the built-in one to start from); without it the built-in template is used. The
format, line by line:

- ``title: ...`` (the first line, optional): the letter's title.
- ``## Heading``: starts a section.
- ``[scores]``, ``[goals]``, ``[certification]`` alone on a line: the outcome-score table, the
  goals table, the physician's certification block (signature, date, NPI).
- any other line: a line of text (long lines wrap; a line break stays a line break, except
  after a line ending in a backslash, which continues on the next). ``$field`` is replaced by
  what is on file (``not recorded`` when nothing is), ``$$`` is a dollar sign. The fields are
  listed in :data:`FIELDS`; an unknown one is refused with the file, line and column.
- a line starting with ``;``: a comment.

Values are inserted as plain text: what a patient or clinician typed is never read as template
syntax or markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from outcomes.errors import ValidationError

KINDS = ("evaluation", "progress", "discharge", "outbound")

FIELDS: dict[str, str] = {
    "patient": "the patient's name",
    "birth_date": "date of birth",
    "record_number": "record number",
    "episode": "episode id",
    "referrer": "the referring physician",
    "clinic": "the clinic's name",
    "clinician": "the treating clinician",
    "today": "the letter's date",
    "body_region": "body region",
    "referral_date": "referral date",
    "first_visit": "first visit (the evaluation)",
    "visits": "visits so far",
    "discharge_date": "discharge date",
    "discharge_reason": "discharge reason",
    "onset_date": "date of onset",
    "chief_complaint": "chief complaint",
    "history": "relevant history",
    "findings": "objective findings",
    "diagnosis": "diagnosis (ICD-10-CM)",
    "treatment": "treatment given",
    "plan": "plan of care (summary)",
    "plan_frequency": "frequency",
    "plan_duration": "duration",
    "plan_interventions": "interventions",
    "referral_question": "the referral question",
    "precautions": "precautions",
    "physician_follow_up": "the patient's next visit to the physician",
    "goals_met": "goals met (\"2 of 3\")",
    "poc_sent_date": "plan of care sent",
    "poc_certified": "plan of care certification",
    "outbound_to": "outbound referral: the partner referred to",
    "outbound_date": "outbound referral: date",
    "outbound_reason": "outbound referral: reason",
    "outbound_question": "outbound referral: the clinical question",
}
BLOCKS = ("scores", "goals", "certification")

DEFAULTS: dict[str, str] = {
    "evaluation": """title: Evaluation summary and plan of care
Thank you for referring $patient. We evaluated them on $first_visit; our findings and \\
the plan of care follow. Please review, sign the certification below and fax it back.

## Referral question
$referral_question

## History
Onset: $onset_date. Chief complaint: $chief_complaint

$history

## Objective findings
$findings

## Diagnosis
$diagnosis

## Outcome measures at intake
[scores]

## Treatment given
$treatment

## Plan of care
Frequency: $plan_frequency
Duration: $plan_duration
Interventions: $plan_interventions

$plan

## Goals
[goals]

## Precautions
$precautions

## Certification of the plan of care
[certification]
""",
    "progress": """title: Progress note
$patient has attended $visits visits since the evaluation on $first_visit. \\
Their next visit to you: $physician_follow_up.

## Outcome scores so far against intake
[scores]

## Goals
[goals]

## Treatment given
$treatment

## Objective findings
$findings

## Plan
Frequency: $plan_frequency. Duration: $plan_duration.

$plan

## Precautions
$precautions
""",
    "discharge": """title: Discharge summary
$patient was discharged on $discharge_date after $visits visits (evaluated $first_visit).
Reason for discharge: $discharge_reason.

## Presenting problem
Onset $onset_date. $chief_complaint

## Outcome against the MCID
[scores]

## Goals met: $goals_met
[goals]

## Diagnosis
$diagnosis

## Treatment given
$treatment

## Recommendations
$plan
""",
    "outbound": """title: Referral note
We are referring $patient to you on $outbound_date.

## Reason for referral
$outbound_reason

## Clinical question
$outbound_question

## Relevant history and findings
Chief complaint: $chief_complaint

$history

$findings

## Diagnosis
$diagnosis

## Relevant scores
[scores]

## Precautions
$precautions
""",
}

_FIELD_RE = re.compile(r"\$(\$|[A-Za-z_][A-Za-z0-9_]*|)")


@dataclass(frozen=True)
class Line:
    number: int
    kind: str  # "title" | "heading" | "block" | "text" | "blank"
    text: str


@dataclass(frozen=True)
class Template:
    kind: str
    source: str
    """Where it came from: a file path, or "built-in"."""
    title: str
    lines: tuple[Line, ...]


def template_path(kind: str, config: Path | None = None) -> Path:
    from outcomes.paths import config_dir

    return (config or config_dir()) / "letters" / f"{kind}.txt"


def parse(text: str, kind: str, source: str) -> Template:
    """Read a template; refuse an unknown field or block naming source, line and column."""
    title = ""
    lines: list[Line] = []
    joined: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if pending is not None:
            number, line = pending[0], pending[1] + line.lstrip()
            pending = None
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending = (number, line[:-1])
            continue
        joined.append((number, line))
    if pending is not None:
        joined.append(pending)
    for number, line in joined:
        stripped = line.strip()
        if stripped.startswith(";"):
            continue
        if number == 1 and stripped.lower().startswith("title:"):
            title = stripped[6:].strip()
            continue
        if stripped.startswith("## "):
            _check_fields(stripped, source, number, line.index("## "))
            lines.append(Line(number, "heading", stripped[3:].strip()))
        elif stripped.startswith("[") and stripped.endswith("]"):
            name = stripped[1:-1].strip().lower()
            if name not in BLOCKS:
                raise ValidationError(
                    f"{source}, line {number}, column {line.index('[') + 1}: unknown block "
                    f"[{name}]; the blocks are {', '.join(f'[{b}]' for b in BLOCKS)}.")
            lines.append(Line(number, "block", name))
        elif not stripped:
            lines.append(Line(number, "blank", ""))
        else:
            _check_fields(line, source, number, 0)
            lines.append(Line(number, "text", line))
    return Template(kind, source, title or kind.capitalize(), tuple(lines))


def _check_fields(line: str, source: str, number: int, offset: int) -> None:
    for match in _FIELD_RE.finditer(line):
        name = match.group(1)
        if name == "$":
            continue
        if name not in FIELDS:
            shown = f"${name}" if name else "a lone $"
            raise ValidationError(
                f"{source}, line {number}, column {match.start() + 1}: unknown field {shown}; "
                f"write $$ for a dollar sign, or one of: {', '.join(FIELDS)}.")


def load(kind: str, config: Path | None = None) -> Template:
    """The clinic's template for ``kind`` when it has one, else the built-in one."""
    if kind not in KINDS:
        raise ValidationError(f"a letter is one of: {', '.join(KINDS)}; not {kind!r}.")
    path = template_path(kind, config)
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(f"{path}: cannot read the letter template ({exc}).") from None
        return parse(text, kind, str(path))
    return parse(DEFAULTS[kind], kind, "built-in")


def fill(text: str, values: dict[str, str]) -> str:
    """Replace each ``$field`` with its value (already checked by :func:`parse`)."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "$":
            return "$"
        return values[name]

    return _FIELD_RE.sub(one, text)


__all__ = ["BLOCKS", "DEFAULTS", "FIELDS", "KINDS", "Template", "fill", "load", "parse",
           "template_path"]
