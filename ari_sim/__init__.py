"""A stand-in for Asterisk's ARI: same REST paths, parameters, status codes, models and events."""
