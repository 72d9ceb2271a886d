"""What every part of the site stands on.

- `database`: SQLite and PostgreSQL behaviour, locks, outages
- `backups`: online backups and restores
- `text_input`: the rules for typed text
- `log_redaction`, `request_log`: logs without tokens or personal data
- `metrics`, `readiness`: Prometheus metrics and readiness checks
"""
