"""Reusable widgets: the chart, the survey item grid, modal forms."""
