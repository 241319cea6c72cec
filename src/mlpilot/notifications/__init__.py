"""Outbound notifications: webhooks and e-mails of platform events, delivered from a transactional outbox."""
