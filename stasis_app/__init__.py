"""OpenContact's Stasis application: owns every call leg through Asterisk's ARI."""
