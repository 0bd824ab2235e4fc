"""The summative written exam (timed sittings drawn from a blueprint) and the OSCE."""
