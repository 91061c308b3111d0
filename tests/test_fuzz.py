"""Bad input never reaches the API and never becomes a traceback; bad answers never crash the provider.

Examples per test: 200 in CI (profile ``ci``); ``HYPOTHESIS_PROFILE=thorough`` runs 2000.
"""

from __future__ import annotations

import math
import re
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulumi.output import Unknown

from pulumi_cloudflare_email_security.client import CloudflareClient
from pulumi_cloudflare_email_security.engine import SettingsProvider
from pulumi_cloudflare_email_security.errors import EmailSecurityError
from pulumi_cloudflare_email_security.registry import PROVIDERS, SETTINGS_TYPES
from pulumi_cloudflare_email_security.settings.base import is_unknown
from pulumi_cloudflare_email_security.settings.checking import check_inputs

from .conftest import ACCOUNT_ID, CANARY
from .samples import SAMPLE_INPUTS

TYPES = sorted(SETTINGS_TYPES)
ALLOWED = re.compile(
    r"should|must|is required|is not an input|is deprecated|not both|names account|valid|at least|at most|"
    r"less than|greater than|Extra inputs|one of|Input should"
)

nasty_text = st.one_of(
    st.just(""),
    st.just("UNKNOWN"),
    st.text(max_size=20),
    st.text(min_size=1025, max_size=1100),
    st.sampled_from(
        [
            "not-an-email",
            "user@@example.com",
            "a@b",
            "not a domain",
            "-bad-.example",
            "10.0.0.1",
            "192.168.0.0/16",
            "2001:db8::1",
            "999.1.1.1",
            "1.2.3.4/33",
            "(unclosed",
            "[z-a]",
            "*invalid",
            "\\",
            "true",
            "1",
            "0b1",
            "023e105f4ecef8ad9ca31a8372d0c353/../x",
            "g" * 32,
            "023e105f4ecef8ad9ca31a8372d0c35",
            "🙂",
        ]
    ),
)
nasty_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    nasty_text,
    st.builds(Unknown),
)
nasty_value = st.one_of(
    nasty_scalar,
    st.lists(nasty_scalar, max_size=12),
    st.dictionaries(st.text(max_size=5), nasty_scalar, max_size=3),
)


@st.composite
def input_bags(draw: st.DrawFn, type_name: str) -> dict[str, Any]:
    """Mostly-valid inputs with some fields broken, dropped, or added (deprecated names included)."""
    spec = SETTINGS_TYPES[type_name]
    bag: dict[str, Any] = {"account_id": ACCOUNT_ID, **SAMPLE_INPUTS[type_name]}
    for name in draw(st.lists(st.sampled_from(spec.inputs), max_size=4, unique=True)):
        if draw(st.booleans()):
            bag[name] = draw(nasty_value)
        else:
            bag.pop(name, None)
    extra_names = [*spec.deprecated_inputs, "is_sender", "colour", "id", "__provider", "created_at"]
    for name in draw(st.lists(st.sampled_from(extra_names), max_size=2, unique=True)):
        bag[name] = draw(nasty_value)
    return bag


@pytest.mark.parametrize("type_name", TYPES)
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_check_never_raises_and_names_what_is_wrong(type_name: str, data: st.DataObject) -> None:
    bag = data.draw(input_bags(type_name))
    checked, failures = check_inputs(SETTINGS_TYPES[type_name], bag)
    assert isinstance(checked, dict)
    for failure in failures:
        assert failure.property in bag or failure.property in SETTINGS_TYPES[type_name].inputs, failure
        assert re.match(rf"^{re.escape(failure.property)}(\.\d+)?: ", failure.reason), failure
        assert ALLOWED.search(failure.reason), failure
        assert len(failure.reason) < 600, "a failure quotes the bad value, shortened"


@pytest.mark.parametrize("type_name", TYPES)
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_what_check_accepts_the_api_accepts(type_name: str, data: st.DataObject) -> None:
    """Whatever passes check is a body the emulator (Cloudflare's spec) takes: nothing bad gets through."""
    from pulumi_cloudflare_email_security.emulator import Backend

    bag = data.draw(input_bags(type_name))
    checked, failures = check_inputs(SETTINGS_TYPES[type_name], bag)
    if failures or any(is_unknown(v) for v in checked.values()):  # unknown anywhere, lists included
        return
    spec = SETTINGS_TYPES[type_name]
    Backend().create(ACCOUNT_ID, spec.collection, spec.create_body(checked))


def test_numbers_arrive_as_floats_and_are_handled() -> None:
    checked, failures = check_inputs(
        SETTINGS_TYPES["ProtectedDomain"],
        {"account_id": ACCOUNT_ID, **SAMPLE_INPUTS["ProtectedDomain"], "lookback_hops": 3.0},
    )
    assert failures == [] and checked["lookback_hops"] == 3
    _, failures = check_inputs(
        SETTINGS_TYPES["ProtectedDomain"],
        {"account_id": ACCOUNT_ID, **SAMPLE_INPUTS["ProtectedDomain"], "lookback_hops": math.nan},
    )
    assert [f.property for f in failures] == ["lookback_hops"]


# --- malformed API responses --------------------------------------------------------------------------------

json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=10)
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def api_results(draw: st.DrawFn, type_name: str) -> Any:
    """What a misbehaving API might put in ``result``: missing, null, wrongly typed or extra fields."""
    spec = SETTINGS_TYPES[type_name]
    entry: dict[str, Any] = {"id": draw(st.one_of(st.just("0b8e6a8c-1111-4222-8333-944455556666"), json_scalar))}
    for name in draw(st.lists(st.sampled_from([*spec.fields, *spec.computed]), unique=True)):
        entry[name] = draw(st.one_of(json_value, st.just(SAMPLE_INPUTS[type_name].get(name))))
    entry.update(draw(st.dictionaries(st.text(min_size=1, max_size=8), json_value, max_size=3)))
    return draw(st.one_of(st.just(entry), json_value))


@st.composite
def envelopes(draw: st.DrawFn, type_name: str) -> tuple[int, Any]:
    result = draw(api_results(type_name))
    body = draw(
        st.sampled_from(
            [
                {"success": True, "errors": [], "messages": [], "result": result},
                {"result": result},
                {"success": True},
                {"success": False, "errors": [{"message": CANARY}], "result": result},
                result,
            ]
        )
    )
    return draw(st.sampled_from([200, 201, 200, 400, 404, 500])), body


@pytest.mark.parametrize("type_name", TYPES)
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture], max_examples=100)
@given(data=st.data())
def test_provider_survives_malformed_answers(
    type_name: str, data: st.DataObject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    status, body = data.draw(envelopes(type_name))

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    now = [0.0]  # a clock that moves only when the client backs off, so retries cost no real time
    client = CloudflareClient(
        httpx.Client(transport=httpx.MockTransport(handler)),
        sleep=lambda seconds: now.__setitem__(0, now[0] + seconds),
        clock=lambda: now[0],
    )
    monkeypatch.setattr(SettingsProvider, "client", staticmethod(lambda: client))
    provider, spec = PROVIDERS[type_name](), SETTINGS_TYPES[type_name]
    inputs, _ = check_inputs(spec, {"account_id": ACCOUNT_ID, **SAMPLE_INPUTS[type_name]})
    for call in (
        lambda: provider.read("0b8e6a8c-1111-4222-8333-944455556666", inputs),
        lambda: provider.update("0b8e6a8c-1111-4222-8333-944455556666", inputs, inputs),
        lambda: provider.create(inputs),
        lambda: provider.delete("0b8e6a8c-1111-4222-8333-944455556666", inputs),
    ):
        try:
            call()
        except EmailSecurityError as error:
            assert CANARY not in str(error)
