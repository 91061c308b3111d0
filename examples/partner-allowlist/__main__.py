"""Allow policies generated from a list of partners: one place to review who is trusted and how much."""

import pulumi

import pulumi_cloudflare_email_security as email_security

# trust: "trusted" skips all detections (sender must still authenticate),
#        "acceptable" only exempts from spam/spoof/bulk dispositions.
PARTNERS = [
    {"domain": "payroll.partner.example", "trust": "trusted", "owner": "finance"},
    {"domain": "crm.vendor.example", "trust": "acceptable", "owner": "sales"},
    {"domain": "tickets.support.example", "trust": "acceptable", "owner": "support"},
]

policies = {
    partner["domain"]: email_security.AllowPolicy(
        f"partner-{partner['domain']}",
        pattern=partner["domain"],
        pattern_type="DOMAIN",
        is_trusted_sender=partner["trust"] == "trusted",
        is_acceptable_sender=partner["trust"] == "acceptable",
        is_exempt_recipient=False,
        is_regex=False,
        verify_sender=True,
        comments=f"Partner; owner: {partner['owner']}; trust: {partner['trust']}",
    )
    for partner in PARTNERS
}

pulumi.export("partner_policy_ids", {domain: policy.id for domain, policy in policies.items()})
