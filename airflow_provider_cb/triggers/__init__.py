"""Triggers for deferrable Chargebee sensors; they only read, never send a POST."""
