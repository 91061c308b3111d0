"""Quickstart: a realistic Email Security policy for one account, every settings type in one program.

`make up` runs this against the embedded emulator (no Cloudflare account needed); with
CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID set, the same program manages the real account.
"""

import pulumi

import pulumi_cloudflare_email_security as email_security

# --- the domain we protect ---------------------------------------------------------------------------------
# Onboarded if the account does not protect it yet, adopted (and left protected on destroy) if it does.
corp = email_security.ProtectedDomain(
    "corp-example",
    domain="corp.example",
    allowed_delivery_modes=["API"],
    regions=["US", "DE"],
    drop_dispositions=["MALICIOUS", "MALICIOUS-BEC", "SPOOF"],
    ip_restrictions=[],
    folder="AllItems",
    lookback_hops=2,
)

# --- who may skip which detections ---------------------------------------------------------------------
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

# --- who is always blocked -------------------------------------------------------------------------------
blocked = [
    email_security.BlockedSender(
        "blocked-lookalike",
        pattern="corp-example-payments.example",
        pattern_type="DOMAIN",
        is_regex=False,
        comments="Lookalike domain used in an invoice-fraud campaign",
    ),
    email_security.BlockedSender(
        "blocked-gift-cards",
        pattern=r"^giftcards?[0-9]*@.*\.example$",
        pattern_type="EMAIL",
        is_regex=True,
        comments="Gift-card scam senders",
    ),
]

# --- young domains we know are fine ------------------------------------------------------------------------
acquisition = email_security.TrustedDomain(
    "newly-acquired",
    pattern="acquired-startup.example",
    is_recent=True,
    is_similarity=False,
    is_regex=False,
    comments="Registered last month for the acquisition; not a phishing domain",
)

# --- people impostors pretend to be --------------------------------------------------------------------------
executives = {
    "ceo": ("Dana Chief", "dana.chief@corp.example"),
    "cfo": ("Sam Ledger", "sam.ledger@corp.example"),
}
vips = [
    email_security.ImpersonationRegistryEntry(
        f"vip-{role}",
        name=name,
        email=email,
        is_email_regex=False,
        comments=f"{role.upper()}: a frequent impersonation target",
    )
    for role, (name, email) in executives.items()
]

# --- mail that must arrive over TLS ----------------------------------------------------------------------------
bank_tls = email_security.SendingDomainRestriction(
    "bank-requires-tls",
    domain="bank.example",
    exclude=["newsletters.bank.example"],
    comments="Our bank's mail must use TLS; its newsletter platform cannot",
)

# --- links the scanner leaves alone ---------------------------------------------------------------------------
intranet_links = email_security.UrlIgnorePattern(
    "intranet-links",
    pattern="https://intranet.corp.example/*",
    comments="Internal links are not reachable from the scanner",
)

# --- what the text of a message gives away ---------------------------------------------------------------
wire_fraud = email_security.ContentPolicy(
    "urgent-wire-transfer",
    name="Urgent wire transfer",
    pattern=r"(?i)\b(urgent|immediate(ly)?|today)\b.{0,80}\bwire\s+transfer\b",
    enabled=True,
    targets=["SUBJECT"],
    notes="Invoice fraud: an urgent request to wire money, in the subject line",
)

pulumi.export("account_id", corp.account_id)
pulumi.export("protected_domain", {"id": corp.id, "status": corp.status, "adopted": corp.adopted})
pulumi.export(
    "allow_policy_ids",
    {
        "partner_relay": partner_relay.id,
        "newsletters": newsletters.id,
        "scanner": scanner.id,
        "abuse_inbox": abuse_inbox.id,
    },
)
pulumi.export("blocked_sender_ids", [b.id for b in blocked])
pulumi.export("vip_ids", [v.id for v in vips])
pulumi.export(
    "other_ids",
    {"trusted": acquisition.id, "tls": bank_tls.id, "url_ignore": intranet_links.id, "content": wire_fraud.id},
)
