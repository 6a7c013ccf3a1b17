"""Documents for referrers: evidence packets and letters, and the PDF parts they share."""
