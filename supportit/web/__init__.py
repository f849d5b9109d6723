"""Blueprints: auth, the merchant portal and the agents' queue."""
