"""Email.

- `emails`: what each email says (drafts)
- `mailer`: building MIME messages and handing them to SMTP or the log
- `outbox`: the durable outbox, its senders and retries
- `outbox_health`: the outbox's waiting and failed messages, for readiness and metrics
"""
