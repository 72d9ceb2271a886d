"""Headers every response carries, whatever answered it: page, error, redirect, file, JSON."""

import pytest

EVERY_KIND_OF_RESPONSE = (
    "/",
    "/library/ai-systems-architect-vs-ai-engineer",
    "/no-such-page",
    "/owner/",  # a redirect to the login page
    "/healthz",
    "/static/css/base.css",
    "/feed.xml",
)


@pytest.mark.parametrize("url", EVERY_KIND_OF_RESPONSE)
def test_no_other_window_can_keep_a_handle_on_ours(client, url):
    """A page opened by another site (or opening one) shares no browsing context with it."""
    response = client.get(url)
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
