"""The benchmark harness: a seeded generator of a large referral network, and the measurements
that compare the app against the best the same machine can do in the same run (`make bench`)."""
