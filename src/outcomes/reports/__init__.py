"""Read models: the scorecard, NPS analytics, the dashboard's views and the statistics they use.
Nothing here writes."""
