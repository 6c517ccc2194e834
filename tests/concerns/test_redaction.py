"""Contact details come out of the free text anyone reads; ordinary numbers, dates and links stay."""

import pytest

from aicommons.concerns.redaction import ADDRESS_REMOVED, EMAIL_REMOVED, LINK_REMOVED, PHONE_REMOVED, redact


@pytest.mark.parametrize(
    "email",
    [
        "jane@example.org",
        "JANE.DOE@EXAMPLE.ORG",
        "jane.doe+ai-reports@mail.example.co.uk",
        "j_doe-1@sub.domain.example",
        "jane [at] example [dot] org",
        "jane(at)example(dot)org",
        "jane [at] example.org",
        "amélie@exemple.fr",
    ],
)
def test_email_addresses_are_removed(email):
    assert redact(f"Write to {email} for the logs.") == f"Write to {EMAIL_REMOVED} for the logs."


@pytest.mark.parametrize(
    "phone",
    [
        "+44 20 7946 0958",
        "+1-202-555-0143",
        "+1 (202) 555-0143",
        "(555) 123-4567",
        "555-123-4567",
        "555.123.4567",
        "555 123 4567",
        "555-1234",
        "07700 900123",
        "07700900123",
        "+221 77 123 45 67",
        "0049 30 1234567",
        "+33612345678",
        "+33 6 12 34 56 78",
        "06 12 34 56 78",
        "+91 98765 43210",
        "030/1234567",
    ],
)
def test_phone_numbers_are_removed(phone):
    assert redact(f"Call {phone} after six.") == f"Call {PHONE_REMOVED} after six."


@pytest.mark.parametrize(
    "link",
    [
        "https://bob:hunter2@intranet.example.org/logs?id=7",
        "http://admin@10.0.0.1:8080/",
        "ftp://user:pw@files.example.org/export.csv",
        "HTTPS://Jane@Example.org",
    ],
)
def test_links_with_a_user_name_or_password_are_removed(link):
    assert redact(f"The logs are at {link} today.") == f"The logs are at {LINK_REMOVED} today."


def test_ip_addresses_are_removed():
    assert redact("It came from 192.168.1.20, twice.") == f"It came from {ADDRESS_REMOVED}, twice."


@pytest.mark.parametrize(
    "text",
    [
        "On 2026-11-27 at 10:30 the ward had 3 nurses for 28 patients.",
        "It happened on 27/11/2026 and again on 27.11.2026.",
        "Between 2019 and 2021 about 1500000 claims were scored.",
        "It costs €2,500,000 a year; version 2.1.3 fixed nothing.",
        "Ward 12, bed 4, 40 km/h, 98.6 °F, 1 in 20 pupils.",
        "See https://example.org/reports/2026/11 and http://example.org/@triagebot.",
        "Press 1234 on the keypad.",
        "Email the council; phone the helpline.",
    ],
)
def test_ordinary_numbers_dates_and_links_stay(text):
    assert redact(text) == text


def test_everything_in_one_text_is_removed_and_the_rest_kept():
    text = "Jane (jane@example.org, +33 6 12 34 56 78) saw it at https://u:p@ehr.example.org on 2026-11-27."
    assert redact(text) == (
        f"Jane ({EMAIL_REMOVED}, {PHONE_REMOVED}) saw it at {LINK_REMOVED} on 2026-11-27."
    )
