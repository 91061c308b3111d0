"""Bring existing entries under management: adopt by natural key, by id, or everything a lookup finds.

`pulumi import` does not work for dynamic providers; these resources adopt instead. Adoption reads the
entry and PATCHes it to the declared values (never a POST), and the next preview shows no changes.

An adopted entry is managed from then on like one the stack created: `pulumi destroy`, or removing the
resource from the program, DELETEs it from the account, although the stack did not create it (protected
domains aside, see below). Entries that must outlive the stack get `retain_on_delete=True`, as the trusted
domains below do.

Try it on the emulator: `cfes seed seed.json` creates the entries this program adopts (see ../README.md).
"""

import pulumi

import pulumi_cloudflare_email_security as email_security

# By natural key: the allow policy with this pattern, pattern_type and is_regex must already exist.
# It is ours now: destroy deletes it.
legacy_partner = email_security.AllowPolicy(
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
adopted = {"legacy-partner": legacy_partner}

# By id (the Terraform-style "<account_id>/<id>" works too), e.g. from the dashboard or a lookup.
# Also ours now: destroy deletes it.
config = pulumi.Config()  # the project's namespace: adopt-existing:ssoPatternId
sso_pattern_id = config.get("ssoPatternId")
if sso_pattern_id:
    adopted["sso-links"] = email_security.UrlIgnorePattern(
        "sso-links",
        pattern="https://sso.corp.example/*",
        comments="Single sign-on links expire when scanned",
        adopt_id=sso_pattern_id,
    )

# Everything a lookup finds: manage every trusted domain the account has today, as it is.
# Without protection, `pulumi destroy` would DELETE every one of these pre-existing entries: adopting
# "whatever the lookup finds" hands the whole collection to this stack. retain_on_delete=True is a Pulumi
# engine option: on destroy (or when a resource leaves the program) the engine only forgets the resource
# and sends no DELETE, so the entries stay in the account, with the values the stack last gave them.
for existing in email_security.list_trusted_domains(order="pattern"):
    adopted[f"trusted-{existing.pattern}"] = email_security.TrustedDomain(
        f"trusted-{existing.pattern}",
        pattern=existing.pattern or "",
        is_recent=bool(existing.is_recent),
        is_similarity=bool(existing.is_similarity),
        is_regex=bool(existing.is_regex),
        comments=existing.comments,
        adopt_id=existing.id,
        opts=pulumi.ResourceOptions(retain_on_delete=True),
    )

# A protected domain the account already has is adopted automatically, and destroy leaves it protected
# (set unprotect_on_destroy=True to have destroy unprotect it).
adopted["corp"] = email_security.ProtectedDomain(
    "corp",
    domain="corp.example",
    allowed_delivery_modes=["BCC"],
    regions=["GLOBAL"],
    drop_dispositions=["MALICIOUS"],
    ip_restrictions=[],
)

pulumi.export("ids", {name: resource.id for name, resource in adopted.items()})
pulumi.export("adopted", {name: resource.adopted for name, resource in adopted.items()})
