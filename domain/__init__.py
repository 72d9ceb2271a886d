"""Plain Python the blueprints share: no request, no session, easy to test."""
