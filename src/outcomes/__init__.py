"""outcomes: referral tracking, outcome measures, NPS and evidence packets for rehab practices.

The core library. It never imports Textual: the front end lives in the ``outcomes_tui`` package.
"""

__version__ = "0.1.0"
