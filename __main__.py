"""Quickstart: a small, realistic allow-policy set for one Cloudflare account.

`make up` runs this against the embedded emulator (no Cloudflare account needed); with
CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID set, the same program manages the real account.
"""

import pulumi

import pulumi_cloudflare_email_security as email_security

partner_relay = email_security.AllowPolicy(
    "partner-relay",
    pattern="mail.partner.example",
    pattern_type="DOMAIN",
    is_trusted_sender=True,
    is_acceptable_sender=False,
    is_exempt_recipient=False,
    is_regex=False,
    verify_sender=True,
    comments="Partner mail relay: trusted, but must pass DMARC/SPF/DKIM",
)

newsletters = email_security.AllowPolicy(
    "newsletter-platform",
    pattern="news@updates.vendor.example",
    pattern_type="EMAIL",
    is_trusted_sender=False,
    is_acceptable_sender=True,
    is_exempt_recipient=False,
    is_regex=False,
    verify_sender=True,
    comments="Bulk newsletters we subscribe to: not spam, still scanned for malware",
)

scanner = email_security.AllowPolicy(
    "security-scanner",
    pattern="45.60.12.0/24",
    pattern_type="IP",
    is_trusted_sender=True,
    is_acceptable_sender=False,
    is_exempt_recipient=False,
    is_regex=False,
    verify_sender=False,
    comments="Phishing-simulation vendor's published sending range",
)

abuse_inbox = email_security.AllowPolicy(
    "abuse-inbox",
    pattern="abuse@corp.example",
    pattern_type="EMAIL",
    is_trusted_sender=False,
    is_acceptable_sender=False,
    is_exempt_recipient=True,
    is_regex=False,
    verify_sender=False,
    comments="Abuse reports must arrive unfiltered",
)

pulumi.export("account_id", partner_relay.account_id)
pulumi.export(
    "allow_policy_ids",
    {
        "partner_relay": partner_relay.id,
        "newsletters": newsletters.id,
        "scanner": scanner.id,
        "abuse_inbox": abuse_inbox.id,
    },
)
