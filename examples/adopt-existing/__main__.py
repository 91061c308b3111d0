"""Bring existing entries under management: adopt by natural key, by id, or everything a lookup finds.

`pulumi import` does not work for dynamic providers; these resources adopt instead. Adoption reads the
entry and PATCHes it to the declared values (never a POST), and the next preview shows no changes.
"""

import pulumi

import pulumi_cloudflare_email_security as email_security

# By natural key: the allow policy with this pattern, pattern_type and is_regex must already exist.
email_security.AllowPolicy(
    "legacy-partner",
    pattern="legacy-partner.example",
    pattern_type="DOMAIN",
    is_trusted_sender=True,
    is_acceptable_sender=False,
    is_exempt_recipient=False,
    is_regex=False,
    verify_sender=True,
    comments="Adopted from the dashboard",
    adopt_existing=True,
)

# By id (the Terraform-style "<account_id>/<id>" works too), e.g. from the dashboard or a lookup.
config = pulumi.Config()
sso_pattern_id = config.get("ssoPatternId")
if sso_pattern_id:
    email_security.UrlIgnorePattern("sso-links", pattern="https://sso.corp.example/*", adopt_id=sso_pattern_id)

# Everything a lookup finds: manage every trusted domain the account has today, as it is.
for existing in email_security.list_trusted_domains(order="pattern"):
    email_security.TrustedDomain(
        f"trusted-{existing.pattern}",
        pattern=existing.pattern or "",
        is_recent=bool(existing.is_recent),
        is_similarity=bool(existing.is_similarity),
        is_regex=bool(existing.is_regex),
        comments=existing.comments,
        adopt_id=existing.id,
    )

# A protected domain the account already has is adopted automatically, and destroy leaves it protected
# (set unprotect_on_destroy=True to have destroy unprotect it).
email_security.ProtectedDomain(
    "corp",
    domain="corp.example",
    allowed_delivery_modes=["BCC"],
    regions=["GLOBAL"],
    drop_dispositions=["MALICIOUS"],
    ip_restrictions=[],
)
