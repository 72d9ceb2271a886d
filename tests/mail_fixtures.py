"""Mail fixtures (filled in by the outbox work)."""
