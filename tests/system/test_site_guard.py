"""The system tests act only on a test site with a test key; anything else is refused."""

from __future__ import annotations

import pytest

from tests.system.site import KEY_ENV, SITE_ENV, RefusedSite, site_from_environment


def test_without_credentials_the_emulator_is_used() -> None:
    assert site_from_environment({}) is None


def test_a_test_key_on_a_test_site_is_accepted() -> None:
    environ = {SITE_ENV: "acme-test", KEY_ENV: "test_abc123"}
    assert site_from_environment(environ) == ("acme-test", "test_abc123")


@pytest.mark.parametrize(
    ("site", "key", "named"),
    [
        ("acme", "test_abc", SITE_ENV),
        ("acme-test", "live_abc", KEY_ENV),
        ("acme.evil.com/x-test", "test_abc", SITE_ENV),
        ("acme-test", "", KEY_ENV),
        ("", "test_abc", SITE_ENV),
    ],
    ids=["live-site", "live-key", "not-a-site-name", "no-key", "no-site"],
)
def test_anything_else_is_refused(site: str, key: str, named: str) -> None:
    with pytest.raises(RefusedSite, match=named):
        site_from_environment({SITE_ENV: site, KEY_ENV: key})
