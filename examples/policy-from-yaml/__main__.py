"""An Email Security policy read from policy.yaml: one resource per entry, every settings type.

The YAML uses the API's field names, so entries copied from the API or the dashboard fit as they are.
Any other key of an entry is passed to its resource as is: `adopt_id` or `adopt_existing` take over an
existing entry. `cfes export --format yaml` writes such a file for a whole account, every entry with its
`adopt_id`, so that the first `pulumi up` adopts the account's entries instead of creating them.
"""

from pathlib import Path
from typing import Any

import pulumi
import yaml

import pulumi_cloudflare_email_security as email_security

RESOURCE_CLASSES: dict[str, Any] = {
    "protected_domains": email_security.ProtectedDomain,
    "allow_policies": email_security.AllowPolicy,
    "blocked_senders": email_security.BlockedSender,
    "trusted_domains": email_security.TrustedDomain,
    "impersonation_registry": email_security.ImpersonationRegistryEntry,
    "sending_domain_restrictions": email_security.SendingDomainRestriction,
    "url_ignore_patterns": email_security.UrlIgnorePattern,
    "content_policies": email_security.ContentPolicy,
}

policy = yaml.safe_load((Path(__file__).parent / "policy.yaml").read_text())
unknown_sections = set(policy) - set(RESOURCE_CLASSES)
if unknown_sections:
    raise ValueError(f"policy.yaml: unknown sections {sorted(unknown_sections)}; use {sorted(RESOURCE_CLASSES)}")

ids = {}
for section, entries in policy.items():
    for entry in entries or []:
        fields = dict(entry)
        name = fields.pop("name")
        if "display_name" in fields:  # a type's own `name` field: `name` is taken by the resource name above
            fields["name"] = fields.pop("display_name")
        resource = RESOURCE_CLASSES[section](f"{section}-{name}", **fields)
        ids[f"{section}/{name}"] = resource.id

pulumi.export("ids", ids)
