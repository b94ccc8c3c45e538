"""One schema definition shared by the admin API and the Stasis app; connection set-up."""
