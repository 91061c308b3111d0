"""``cfes export``: an account's existing settings as a Pulumi project that adopts every entry.

Driven by the registry: every settings type is read, planned and written from its declaration alone, so a
new type is exported without new code here. The steps:

1. :func:`read_account` lists each type's collection, every page, with the package's client (the same
   credentials, base URL, rate budget and retries as the provider), reporting progress as it goes.
2. :func:`plan_type` turns the entries into resources: the writable fields that have a value (deprecated
   fields and computed ones never), the entry's id to adopt, and a resource name (:func:`resource_names`).
   Entries no program may manage (a directory-synced impersonation entry) or whose values a program could
   not declare (they fail the resource's input checks) are skipped, with the reason.
3. :func:`render_program` (``__main__.py``; with sets, one set resource per type that has one) or
   :func:`render_policy_yaml` (the ``policy.yaml`` of ``examples/policy-from-yaml``) writes the plan, and
   :func:`write_files` moves it into place whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Protocol

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from .client import MAX_PER_PAGE, CloudflareClient, settings_path
from .entries import DEPRECATED_FIELDS
from .errors import CloudflareAPIError, ConfigurationError, NotFoundError, TransportError
from .registry import SET_PROVIDERS
from .render import Code, py_call, py_comment, py_str, shown_py, yaml_comment, yaml_str, yaml_value
from .settings.base import ACCOUNT_ID, ADOPT_EXISTING, ADOPT_ID, SettingsType
from .settings.checking import check_inputs

DISTRIBUTION = "pulumi-cloudflare-email-security"
PACKAGE_ALIAS = "email_security"
NAME_LENGTH = 60
"""The longest readable part of a resource name (a short hash may follow)."""
HASH_LENGTH = 6
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]+")
_PROJECT_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
ACCOUNT_CONSTANT = Code("ACCOUNT_ID")
"""The program's constant for the account id, which every resource names."""
OWN_NAME_FIELD = "name"
YAML_OWN_NAME_FIELD = "display_name"
"""``policy.yaml`` takes each entry's resource name as ``name``: a type's own ``name`` field is written so."""


class ExportError(Exception):
    """Exporting failed: the message is one line saying what went wrong and what to do."""


# --- which types ---------------------------------------------------------------------------------


def settings_type_named(name: str, types: Mapping[str, SettingsType]) -> SettingsType:
    """The settings type that ``name`` names, in any letter case: its resource class name
    (``AllowPolicy``), its API collection (``allow_policies``) or its ``policy.yaml`` section."""
    wanted = name.strip().lower().replace("-", "_")
    for spec in types.values():
        if wanted in (spec.resource_name.lower(), spec.collection, yaml_section(spec)):
            return spec
    known = ", ".join(f"{spec.resource_name} ({spec.collection})" for spec in types.values())
    raise ExportError(f"unknown settings type {name!r}: use one of {known}")


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _plural(noun: str) -> str:
    if noun.endswith("y") and noun[-2:-1] not in tuple("aeiou"):
        return noun[:-1] + "ies"
    return noun + ("es" if noun.endswith("s") else "s")


def yaml_section(spec: SettingsType) -> str:
    """The section of ``policy.yaml`` that holds a type's entries: the plural of its resource class in
    snake case (``allow_policies``, ``protected_domains``), or its API collection when the class names one
    entry of that collection (``ImpersonationRegistryEntry``: ``impersonation_registry``)."""
    snake = _snake(spec.resource_name)
    if snake.startswith(spec.collection + "_"):
        return spec.collection
    return _plural(snake)


# --- reading -------------------------------------------------------------------------------------


class ReadProgress(Protocol):
    """Told how reading an account goes, type by type."""

    def started(self, spec: SettingsType) -> None:
        """Reading a type's collection begins."""

    def advanced(self, spec: SettingsType, count: int) -> None:
        """``count`` entries of the type have been read so far."""

    def finished(self, spec: SettingsType, count: int, pages: int) -> None:
        """The type's collection has been read: ``count`` entries in ``pages`` pages."""


def one_line(error: BaseException) -> str:
    """An error's message on one line, for a one-line report."""
    return " ".join(str(error).split())


def _failure(exc: CloudflareAPIError, spec: SettingsType, account_id: str) -> ExportError:
    text = one_line(exc)
    if isinstance(exc, TransportError):
        return ExportError(f"cannot reach the Cloudflare API: {text}")
    what = f"cannot list {spec.collection} of account {account_id}: {text}"
    if isinstance(exc, NotFoundError):
        return ExportError(f"{what}; check the account id, and that Email Security is enabled for that account")
    if exc.status in (401, 403):
        return ExportError(f"{what}; check the account id (exporting needs only Cloud Email Security: Read)")
    return ExportError(what)


def read_account(
    client: CloudflareClient,
    account_id: str,
    specs: Sequence[SettingsType],
    progress: ReadProgress,
    *,
    per_page: int = MAX_PER_PAGE,
) -> dict[str, list[dict[str, Any]]]:
    """Every entry of each type's collection (all pages), by collection; failures as :class:`ExportError`."""
    read: dict[str, list[dict[str, Any]]] = {}
    for spec in specs:
        progress.started(spec)
        entries: list[dict[str, Any]] = []
        try:
            for entry in client.iter_list(settings_path(account_id, spec.collection), per_page=per_page):
                entries.append(entry)
                progress.advanced(spec, len(entries))
        except ConfigurationError as exc:
            raise ExportError(one_line(exc)) from None
        except CloudflareAPIError as exc:
            raise _failure(exc, spec, account_id) from None
        progress.finished(spec, len(entries), len(entries) // per_page + 1)
        read[spec.collection] = entries
    return read


# --- planning ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """One entry, as a resource that adopts it."""

    name: str
    entry_id: str
    values: dict[str, Any]
    """The writable fields to declare, in declaration order (fields without a value left out)."""
    created_at: str = ""


@dataclass(frozen=True)
class Skipped:
    """An entry left out of the program, and why."""

    entry_id: str
    key: str
    """Its natural key, as comments show it (``email='ceo@corp.example'``)."""
    reason: str


@dataclass
class TypePlan:
    """What is exported of one settings type."""

    spec: SettingsType
    resources: list[Resource] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    shared_keys: set[Any] = field(default_factory=set)
    """Natural keys (:meth:`SettingsType.key_of`) that several entries of the account have, skipped ones
    included: a set cannot adopt by such a key, so those entries are adopted one by one, by id."""


def declared_values(spec: SettingsType, entry: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a program declares for ``entry``: every writable field with a value, in declaration
    order; deprecated fields never."""
    return {k: entry[k] for k in spec.fields if k not in DEPRECATED_FIELDS and entry.get(k) is not None}


def _key_text(spec: SettingsType, values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={shown_py(values.get(k))}" for k in spec.natural_key)


def sort_key(spec: SettingsType, values: Mapping[str, Any]) -> str:
    """Orders entries by natural key (then by all their values): the same account gives the same order."""
    key = [values.get(k) for k in spec.natural_key]
    return json.dumps([key, values], sort_keys=True, ensure_ascii=False)


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_LENGTH]


def readable_name(spec: SettingsType, values: Mapping[str, Any]) -> str:
    """A resource name from an entry's natural key alone, so that it never changes when other entries come
    and go: the key's values joined by ``-`` (a true flag by its field name, a false one left out), kept
    as they are when that spells them exactly in the characters names may use (``partner.example-DOMAIN``);
    otherwise made of those characters, cut to length, and followed by a short hash of the whole key
    (``https-sso.corp.example-1f0c2a``), so that keys that read alike still get names of their own."""
    parts: list[str] = []
    for name in spec.natural_key:
        value = values.get(name)
        if isinstance(value, bool):
            parts += [name] if value else []
        elif isinstance(value, list):
            parts += [str(item) for item in value]
        elif value is not None:
            parts.append(str(value))
    label = "-".join(parts)
    slug = _NAME_UNSAFE.sub("-", label).strip("-")[:NAME_LENGTH].rstrip("-")
    if slug and slug == label:
        return slug
    return f"{slug or spec.collection}-{_digest([values.get(k) for k in spec.natural_key])}"


def resource_names(spec: SettingsType, resources: Sequence[Resource]) -> list[str]:
    """Unique names for ``resources``: each its :func:`readable_name`, except that among entries with the
    same natural key (the API allows some) the oldest keeps it and the others add a hash of their id."""
    names = [readable_name(spec, r.values) for r in resources]
    groups: dict[str, list[int]] = defaultdict(list)
    for index, name in enumerate(names):
        groups[name].append(index)
    for name, members in groups.items():
        for index in sorted(members, key=lambda i: (resources[i].created_at, resources[i].entry_id))[1:]:
            names[index] = f"{name}-{_digest(resources[index].entry_id)}"
    taken: set[str] = set()
    for index, name in enumerate(names):
        unique, counter = name, 1
        while unique in taken:  # only when two different keys made the same name, hash included
            counter += 1
            unique = f"{name}-{counter}"
        taken.add(unique)
        names[index] = unique
    return names


def plan_type(spec: SettingsType, account_id: str, entries: Iterable[Mapping[str, Any]]) -> TypePlan:
    """The resources (sorted by natural key, named) and the skipped entries of one type."""
    plan = TypePlan(spec)
    entries = list(entries)
    seen: set[Any] = set()
    for entry in entries:
        key = spec.key_of(entry)
        if key in seen:
            plan.shared_keys.add(key)
        seen.add(key)
    for entry in entries:
        values = declared_values(spec, entry)
        entry_id = str(entry.get("id"))
        reason = spec.unmanageable_reason(entry)
        if reason is None:
            failures = check_inputs(spec, {ACCOUNT_ID: account_id, **values})[1]
            if failures:
                reason = "a program cannot declare it as it is: " + "; ".join(f.reason for f in failures)
        if reason:
            plan.skipped.append(Skipped(entry_id, _key_text(spec, entry), reason))
        else:
            plan.resources.append(Resource("", entry_id, values, str(entry.get("created_at") or "")))
    plan.resources.sort(key=lambda r: (sort_key(spec, r.values), r.created_at, r.entry_id))
    names = resource_names(spec, plan.resources)
    plan.resources = [replace(r, name=n) for n, r in zip(names, plan.resources, strict=True)]
    plan.skipped.sort(key=lambda s: (s.key, s.entry_id))
    return plan


# --- rendering -----------------------------------------------------------------------------------


def package_version() -> str | None:
    """The installed package's version, if it is installed."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
        return None


def project_name(output: Path) -> str:
    """A Pulumi project name from the output directory's name."""
    name = _PROJECT_UNSAFE.sub("-", output.resolve().name).strip("-.")
    return name or "email-security"


def render_pulumi_yaml(name: str, account_id: str) -> str:
    """``Pulumi.yaml`` of an exported Python project."""
    return "\n".join(
        [
            f"name: {yaml_str(name)}",
            f"description: Cloudflare Email Security settings of account {account_id}, exported by cfes export.",
            "runtime:",
            "  name: python",
            "  # No virtualenv option: Pulumi runs the python on PATH, so activate the virtualenv that has",
            "  # pulumi-cloudflare-email-security installed before running pulumi. Or set",
            "  # `options: {toolchain: pip, virtualenv: venv}` and run `pulumi install` to make one from",
            "  # requirements.txt.",
            "",
        ]
    )


def render_requirements() -> str:
    """``requirements.txt`` of an exported Python project."""
    found = package_version()
    return f"{DISTRIBUTION}>={found}\n" if found else f"{DISTRIBUTION}\n"


_PROGRAM_DOC = '''"""Email Security settings of account {account_id}, from cfes export.

Every resource adopts the entry it was exported from (adopt_id), so the first `pulumi up`
takes the entries over without creating, duplicating or changing any; `pulumi preview`
then shows no changes. From then on they are managed like any other resource:
`pulumi destroy`, or removing one from this program, deletes it from the account (a type
that says so below is released instead, and stays as it is).
"""'''

_SETS_DOC = '''"""Email Security settings of account {account_id}, from cfes export.

A set resource per type holds its entries and takes the existing ones over by natural key
(adopt_existing); single resources adopt the entry they were exported from (adopt_id). So
the first `pulumi up` takes the entries over without creating, duplicating or changing any;
`pulumi preview` then shows no changes. From then on they are managed like any other
resource: `pulumi destroy`, or removing an entry from this program, deletes it from the
account (a type that says so below is released instead, and stays as it is).
"""'''


def set_classes() -> dict[str, str]:
    """The set resource class of each settings type that has one, by the type's resource class name."""
    return {provider.settings_type.resource_name: name for name, provider in SET_PROVIDERS.items()}


def entries_count(number: int) -> str:
    """``1 entry``, ``2 entries``."""
    return f"{number} {'entry' if number == 1 else 'entries'}"


def _released(opt_in: str) -> str:
    return (
        "Adopted: destroy releases these from the stack and leaves them in place\n"
        f"(give one {opt_in} to remove it on destroy)."
    )


def _type_header(plan: TypePlan) -> list[str]:
    spec = plan.spec
    lines = py_comment(f"{spec.resource_name} ({spec.collection}): {entries_count(len(plan.resources))}")
    if spec.release_adopted_unless:
        lines += py_comment(_released(f"{spec.release_adopted_unless}=True"))
    return lines


def _skipped_comment(plan: TypePlan, lines: list[str], comment: Callable[[str], list[str]]) -> None:
    for skipped in plan.skipped:
        lines += comment(
            f"Not exported: {plan.spec.resource_name} {skipped.entry_id} ({skipped.key}): {skipped.reason}"
        )


def _resource_call(plan: TypePlan, resource: Resource) -> list[str]:
    keywords = {ACCOUNT_ID: ACCOUNT_CONSTANT, ADOPT_ID: resource.entry_id, **resource.values}
    return py_call(f"{PACKAGE_ALIAS}.{plan.spec.resource_name}", [resource.name], keywords)


def _set_call(set_class: str, plan: TypePlan, members: Sequence[Resource]) -> list[str]:
    keywords = {ACCOUNT_ID: ACCOUNT_CONSTANT, ADOPT_EXISTING: True, "entries": [r.values for r in members]}
    return py_call(f"{PACKAGE_ALIAS}.{set_class}", [plan.spec.collection], keywords)


def set_members(plan: TypePlan) -> tuple[list[Resource], list[Resource]]:
    """A type's resources split into the entries of its set and those adopted one by one (their natural
    key is shared by several entries of the account, which a set cannot adopt by)."""
    members = [r for r in plan.resources if plan.spec.key_of(r.values) not in plan.shared_keys]
    singles = [r for r in plan.resources if plan.spec.key_of(r.values) in plan.shared_keys]
    return members, singles


def render_program(account_id: str, plans: Sequence[TypePlan], *, sets: bool = False) -> str:
    """``__main__.py``: one resource per entry, with its ``adopt_id``; or, with ``sets``, one set resource
    per type that has a set class (``adopt_existing=True``), and single resources for the rest."""
    lines = [(_SETS_DOC if sets else _PROGRAM_DOC).format(account_id=account_id), ""]
    lines += [f"import pulumi_cloudflare_email_security as {PACKAGE_ALIAS}", ""]
    lines.append(f"{ACCOUNT_CONSTANT} = {py_str(account_id)}")
    with_sets = set_classes() if sets else {}
    for plan in plans:
        lines += ["", *_type_header(plan)]
        _skipped_comment(plan, lines, py_comment)
        singles = plan.resources
        set_class = with_sets.get(plan.spec.resource_name)
        if set_class is not None:
            members, singles = set_members(plan)
            if singles:
                lines += py_comment(
                    f"{entries_count(len(singles))} share a natural key with another entry: adopted one by one, by id."
                )
            lines += ["", *_set_call(set_class, plan, members)]
        for resource in singles:
            lines += ["", *_resource_call(plan, resource)]
    return "\n".join(lines) + "\n"


def render_policy_yaml(account_id: str, plans: Sequence[TypePlan]) -> str:
    """The ``policy.yaml`` of ``examples/policy-from-yaml``: a section per type, an entry per resource with
    its ``name`` and ``adopt_id``, the API's field names (a type's own ``name`` as ``display_name``)."""
    lines = [
        f"# Email Security settings of account {account_id}, from cfes export.",
        "# The policy.yaml of examples/policy-from-yaml: run that program with this file, and the",
        "# stack's cloudflare-email-security:accountId (or CLOUDFLARE_ACCOUNT_ID) set to that account.",
        "# Every entry adopts the existing one it was exported from (adopt_id): the first `pulumi up`",
        "# creates, duplicates and changes nothing, and `pulumi preview` then shows no changes.",
    ]
    for plan in plans:
        spec = plan.spec
        lines += ["", *yaml_comment(f"{spec.resource_name}: {entries_count(len(plan.resources))}")]
        if spec.release_adopted_unless:
            lines += yaml_comment(_released(f"{spec.release_adopted_unless}: true"))
        _skipped_comment(plan, lines, yaml_comment)
        lines.append(f"{yaml_section(spec)}:" + ("" if plan.resources else " []"))
        for resource in plan.resources:
            fields = {"name": resource.name, ADOPT_ID: resource.entry_id}
            fields |= {YAML_OWN_NAME_FIELD if k == OWN_NAME_FIELD else k: v for k, v in resource.values.items()}
            for index, (key, value) in enumerate(fields.items()):
                lines.append(f"{'  - ' if index == 0 else '    '}{key}: {yaml_value(value)}")
    return "\n".join(lines) + "\n"


# --- writing -------------------------------------------------------------------------------------


def check_output(output: Path, *, force: bool) -> None:
    """Refuse an output that is not a directory, or a non-empty one unless ``force``."""
    if output.exists() and not output.is_dir():
        raise ExportError(f"--output {output} exists and is not a directory: name a new or empty directory")
    if output.is_dir() and not force and any(output.iterdir()):
        raise ExportError(
            f"--output {output} is not empty: name a new or empty directory, or pass --force to replace the "
            "files the export writes there (other files are left alone)"
        )


def write_files(output: Path, files: Mapping[str, str], *, force: bool) -> None:
    """Write ``files`` (name to text) into ``output`` whole or not at all: into a temporary directory beside
    it first, then moved into place; files already in ``output`` that the export does not write stay."""
    check_output(output, force=force)
    parent = output.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.cfes-export-", dir=parent))
    except OSError as exc:
        raise ExportError(f"cannot write into {parent}: {exc.strerror or exc}") from None
    try:
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
        if output.is_dir():
            for name in files:
                os.replace(staging / name, output / name)
        else:
            staging.chmod(0o777 & ~_umask())
            os.replace(staging, output)
    except OSError as exc:
        raise ExportError(f"cannot write {output}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(staging)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- the whole export ----------------------------------------------------------------------------

FORMATS = ("python", "yaml")


def project_files(
    form: str, account_id: str, plans: Sequence[TypePlan], output: Path, *, sets: bool = False
) -> dict[str, str]:
    """The files of an export, by name: a Python project, or the ``policy.yaml`` of ``policy-from-yaml``."""
    if form == "yaml":
        return {"policy.yaml": render_policy_yaml(account_id, plans)}
    return {
        "Pulumi.yaml": render_pulumi_yaml(project_name(output), account_id),
        "__main__.py": render_program(account_id, plans, sets=sets),
        "requirements.txt": render_requirements(),
    }


def export_account(
    client: CloudflareClient,
    account_id: str,
    specs: Sequence[SettingsType],
    progress: ReadProgress,
    *,
    output: Path,
    form: str = "python",
    sets: bool = False,
    force: bool = False,
    per_page: int = MAX_PER_PAGE,
) -> tuple[list[TypePlan], list[str]]:
    """Read ``specs`` of the account and write the project into ``output``; the plans and the file names.

    ``output`` is checked before anything is read, and written only once everything has been read.
    """
    check_output(output, force=force)
    read = read_account(client, account_id, specs, progress, per_page=per_page)
    plans = [plan_type(spec, account_id, read[spec.collection]) for spec in specs]
    files = project_files(form, account_id, plans, output, sets=sets)
    write_files(output, files, force=force)
    return plans, list(files)


def summary(
    account_id: str, plans: Sequence[TypePlan], output: Path, files: Sequence[str], form: str = "python"
) -> list[str]:
    """What an export wrote and skipped, as lines for people."""
    total = sum(len(plan.resources) for plan in plans)
    width = max((len(plan.spec.resource_name) for plan in plans), default=0)
    lines = [f"Exported {entries_count(total)} of account {account_id} into {output} ({', '.join(files)}):"]
    for plan in plans:
        skipped = f", {len(plan.skipped)} skipped" if plan.skipped else ""
        lines.append(f"  {plan.spec.resource_name:<{width}}  {len(plan.resources):>6}{skipped}")
    skipped_entries = [(plan.spec, s) for plan in plans for s in plan.skipped]
    if skipped_entries:
        lines.append(f"Skipped {entries_count(len(skipped_entries))} (listed as comments in the output):")
        lines += [f"  {spec.resource_name} {s.entry_id} ({s.key}): {s.reason}" for spec, s in skipped_entries]
    if not total and not skipped_entries:
        lines.append(f"Warning: account {account_id} has no entries of these types: is it the account you meant?")
    if form == "yaml":
        lines.append(f"Next: run examples/policy-from-yaml with {output / 'policy.yaml'} as its policy.yaml.")
    else:
        lines.append(f"Next: cd {output}, pulumi stack init, pulumi up (it adopts, creating nothing), pulumi preview.")
    return lines


class PlainProgress:
    """Progress as plain lines, one per type once read (for logs and CI, where there is no terminal)."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def started(self, spec: SettingsType) -> None:
        """Nothing to say yet."""

    def advanced(self, spec: SettingsType, count: int) -> None:
        """Nothing to say until the type is read."""

    def finished(self, spec: SettingsType, count: int, pages: int) -> None:
        """One line: the type, how many entries, how many pages."""
        pages_read = f"{pages} page" + ("" if pages == 1 else "s")
        self.console.print(f"Read {spec.resource_name} ({spec.collection}): {entries_count(count)}, {pages_read}")


class RichProgress(contextlib.AbstractContextManager["RichProgress"]):
    """Progress as a live display on a terminal: a bar per type, with the entries read so far."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            SpinnerColumn(finished_text="[green]✓"),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[read]}"),
            TimeElapsedColumn(),
            console=console,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def started(self, spec: SettingsType) -> None:
        """A new bar for the type, of unknown length."""
        description = f"{spec.resource_name} ({spec.collection})"
        self.tasks[spec.collection] = self.progress.add_task(description, total=None, read=entries_count(0))

    def advanced(self, spec: SettingsType, count: int) -> None:
        """The count so far."""
        self.progress.update(self.tasks[spec.collection], read=entries_count(count))

    def finished(self, spec: SettingsType, count: int, pages: int) -> None:
        """The bar full, with the count and the pages."""
        task = self.tasks[spec.collection]
        suffix = f", {pages} page" + ("" if pages == 1 else "s")
        description = f"{spec.resource_name} ({spec.collection}){suffix}"
        self.progress.update(task, total=1, completed=1, description=description, read=entries_count(count))
