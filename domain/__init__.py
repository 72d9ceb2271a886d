"""Plain Python the blueprints share: no request, no session, easy to test.

Grouped by subdomain; each package's docstring names the modules the rest may use:
`booking` (slots, calls, private links), `leads` (the pipeline and the funnel),
`content` (the articles), `mail` (emails and the outbox), `calendar` (calendar files),
`accounts` (the owner's sign-in) and `platform` (database, logs, metrics, backups, input).
"""
