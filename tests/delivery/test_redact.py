"""Free-text scrubbing: secrets, e-mails and phones masked; Shopify global ids kept whole
(their 13-digit numbers look like phone numbers)."""

from __future__ import annotations

from connector.redact import scrub


def test_gids_stay_whole_while_phones_around_them_are_masked() -> None:
    text = ("tagged gid://shopify/Customer/7204650000000 for +1 415 555 0123, "
            "then gid://shopify/Order/5000000000001; key sk_live_abcdefgh1234 "
            "whsec_0123456789 mail sam@example.com")
    assert scrub(text) == (
        "tagged gid://shopify/Customer/7204650000000 for ***23, "
        "then gid://shopify/Order/5000000000001; key sk_live_*** "
        "whsec_*** mail s***@example.com")


def test_a_phone_in_a_path_is_still_masked() -> None:
    assert scrub("GET /customers/4155550123") == "GET /customers/***23"
