"""Sticky webhooks: verifying deliveries, receiving them into the state DB, applying
them (tiers, pass installs, journeys) and writing tiers back to the sources."""
