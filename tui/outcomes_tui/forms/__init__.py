"""Modal forms, one module each. Every form collects what the user types, calls one job of the
core API in a worker, and shows the core's answer: saved (the form closes) or refused (the
form stays open with everything typed, and says why)."""
