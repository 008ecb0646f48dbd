"""/api/v1/ fuzzed against its own OpenAPI schema (drf-spectacular) with Schemathesis, through the WSGI
application — no server, the same code path as gunicorn.

For a bank filer's token (工商银行) and a PBoC officer's token (武汉分行), every operation is called with
generated parameters and bodies — valid ones and ones that break the schema — and must answer without a
5xx, with a status code the schema documents, the content type it declares and a body that matches it.

Path ids are pointed at real objects (工商银行's filings of each form and the periods), chosen by the
generated number, so that requests reach the services instead of stopping at a 404. Bounded: a few
examples per operation and role, derandomized (fixed seed). The world is committed once for the module
(the WSGI handler opens and closes connections per request, as in production) and flushed afterwards.

Schemathesis' own pytest plugin does not run under pytest 9 (it sets Function._nodeid), so the schema's
operations are parametrized here and each one is driven by Hypothesis with the operation's strategy.
"""

import json
from datetime import date
from types import SimpleNamespace

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS as CHECK_REGISTRY
from schemathesis.checks import load_all_checks
from schemathesis.specs.openapi.checks import positive_data_acceptance

from institutions.models import Institution, PbocOffice, Role, User
from institutions.services import load_master_data
from reporting import services
from reporting.models import Filing, Form, Period, VersionSource
from tests.factories import sheet_values


def positive_data_accepted_unless_the_object_refuses(ctx, response, case):
    """positive_data_acceptance, except for a service's refusal of the object's state: a schema-valid body can
    still be turned down with a 400 and the service's own error code because of the object it names (a
    submitted sheet is locked, a filing with no data has no findings, a document return has no Excel
    template) — the schema documents those 400s, but the generator cannot know which id is in which state.
    Two validation errors are of the same kind: `values` that the period's form does not take (values/ and
    check/ take the codes of the period's definition, none for a document return — the schema cannot say
    which per period id), and a
    `file` that the generator sent as a plain text part (it has no bytes or filename for a `format: binary`
    part of a multipart body). Any other 400 for the request itself is still a mismatch."""
    if response.status_code == 400:
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            error = {}
        code, details = error.get("code"), error.get("details") or {}
        if code not in (None, "validation_error", "parse_error"):
            return None
        if (
            code == "validation_error"
            and isinstance(details, dict)
            and set(details) in ({"values"}, {"file"})
        ):
            text_as_file = "file" in details and not isinstance((case.body or {}).get("file"), bytes)
            if "values" in details or text_as_file:
                return None
    return positive_data_acceptance(ctx, response, case)


# Every check schemathesis has (`--checks all`), with positive_data_acceptance narrowed as above.
load_all_checks()
CHECKS = [check for check in CHECK_REGISTRY.get_all() if check is not positive_data_acceptance]
CHECKS.append(positive_data_accepted_unless_the_object_refuses)
CONFIG = schemathesis.Config.from_dict({"seed": 20220331, "generation": {"deterministic": True}})
BOUNDED = settings(
    max_examples=6,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _openapi() -> dict:
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


def _schema():
    from portal.wsgi import application

    schema = schemathesis.openapi.from_dict(_openapi(), config=CONFIG).include(path_regex="^/api/v1/")
    schema.app = application
    return schema


SCHEMA = _schema()
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """工商银行 with a draft and a submitted monthly sheet and a filing of every 2022 return; a filer's and
    an officer's token. Committed for the module, flushed after it."""
    from django.conf import settings as django_settings

    media, django_settings.MEDIA_ROOT = django_settings.MEDIA_ROOT, tmp_path_factory.mktemp("fuzz-media")
    with django_db_blocker.unblock():
        try:
            yield _world()
        finally:
            call_command("flush", interactive=False, verbosity=0)
            django_settings.MEDIA_ROOT = media


def _world() -> SimpleNamespace:
    load_master_data()
    icbc = Institution.objects.get(code="ICBC")
    users = {
        "filer": User(username="fuzz_filer", role=Role.BANK_FILER, institution=icbc),
        "signer": User(username="fuzz_signer", role=Role.BANK_SIGNER, institution=icbc),
        "officer": User(
            username="fuzz_officer", role=Role.PBOC_OFFICER, office=PbocOffice.objects.get(code="WH")
        ),
    }
    for user in users.values():
        user.set_unusable_password()
        user.save()
    services.ensure_monthly_periods((2022, 1), (2022, 3))
    services.ensure_campaign_periods(2022, due_on=date(2022, 4, 29))
    monthly = {p.month: p for p in Period.objects.filter(form=Form.MONITORING, year=2022)}
    for month in (2, 3):
        services.save_version(
            institution=icbc,
            period=monthly[month],
            actor=users["filer"],
            raw=sheet_values(scale=month),
            source=VersionSource.API,
        )
    services.submit(filing=Filing.objects.get(period=monthly[2]), actor=users["signer"], confirm=True)
    periods = list(Period.objects.filter(year=2022).order_by("pk"))
    for period in periods:
        Filing.objects.get_or_create(institution=icbc, period=period)
    filings = sorted(Filing.objects.filter(institution=icbc).values_list("pk", flat=True))
    return SimpleNamespace(
        filings=filings,
        ids={
            "id": filings,
            "pk": filings,
            "institution_id": [icbc.pk],
            "period_id": [p.pk for p in periods],
            "number": [1, 2],
        },
        tokens={role: Token.objects.create(user=users[role]).key for role in ("filer", "officer")},
    )


def _real(generated, choices: list[int]):
    """A real id for the generated value (the same integer, the same object). Malformed ids in the path
    (negative numbers, text) are not sent: Django's URL patterns answer them with the HTML 404 page, which
    test_malformed_ids_in_the_path_get_the_api_error_shape covers once."""
    number = (
        generated if isinstance(generated, int) and not isinstance(generated, bool) else len(str(generated))
    )
    return choices[abs(number) % len(choices)]


def call(case, world, role: str):
    params = case.path_parameters or {}
    for name in list(params):
        params[name] = _real(params[name], world.ids.get(name, [1]))
    response = case.call(headers={"Authorization": f"Token {world.tokens[role]}"})
    headers = {"Authorization": f"Token {world.tokens[role]}"}
    case.validate_response(response, checks=CHECKS, headers=headers)


def _modes(operation) -> list:
    """Valid data always; invalid data where there is something to break (path or query parameters, a body;
    the token header and session cookie of the security schemes are left alone)."""
    breakable = bool(list(operation.path_parameters) or list(operation.query) or operation.body)
    return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE] if breakable else [GenerationMode.POSITIVE]


CASES = [(label, mode) for label, operation in sorted(OPERATIONS.items()) for mode in _modes(operation)]


@pytest.fixture
def on_top_of_the_world(db, world):
    """Each test runs on the module's world in a transaction rolled back after it. The WSGI handler would
    close the test's connection at each request (close_old_connections): unhooked for the test, as Django's
    own test client does."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield world
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.parametrize("role", ["filer", "officer"])
@pytest.mark.parametrize(("label", "mode"), CASES, ids=[f"{label} {mode.value}" for label, mode in CASES])
def test_operation_answers_as_its_schema_says(label, mode, role, on_top_of_the_world):
    @BOUNDED
    @given(case=OPERATIONS[label].as_strategy(generation_mode=mode))
    def run(case):
        call(case, on_top_of_the_world, role)

    run()


@pytest.mark.parametrize(
    "path", ["/api/v1/filings/-1/", "/api/v1/filings/abc/versions/", "/api/v1/periods/1.5/definition/"]
)
def test_malformed_ids_in_the_path_get_the_api_error_shape(path, on_top_of_the_world):
    """The schema types every id as an integer; a negative or non-numeric one must still get the API's
    JSON error ({"error": {...}}), not the HTML page of the browser UI."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {on_top_of_the_world.tokens['filer']}")
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    assert set(response.json()["error"]) == {"code", "message", "details"}


@pytest.mark.parametrize("path", ["/api/v1/periods/", "/api/v1/filings/", "/api/v1/institutions/"])
def test_an_absurd_page_size_on_a_list_is_not_a_server_error(path, on_top_of_the_world):
    """Found by the fuzzer: limit beyond PostgreSQL's bigint reached the SQL LIMIT (NumericValueOutOfRange)."""
    from rest_framework.test import APIClient

    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {on_top_of_the_world.tokens['filer']}")
    response = client.get(path, {"limit": 10**20})
    assert response.status_code < 500, (path, response.status_code)
    assert response.status_code in (200, 400) and response["Content-Type"].startswith("application/json")


def test_every_operation_of_the_api_is_fuzzed_against_real_objects(on_top_of_the_world):
    world = on_top_of_the_world
    assert len(OPERATIONS) >= 20
    assert "POST /api/v1/institutions/{institution_id}/periods/{period_id}/workbook/" in OPERATIONS
    forms = set(Filing.objects.filter(pk__in=world.filings).values_list("period__form", flat=True))
    assert forms == set(Form.values)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("offset=null", "offset"),
        ("offset=-1", "offset"),
        ("limit=", "limit"),
        ("limit=0", "limit"),
        ("offset=1&offset=2", "offset"),
        ("status=", "status"),
    ],
)
def test_a_malformed_paging_or_filter_parameter_is_refused_in_the_api_error_shape(
    query, parameter, on_top_of_the_world
):
    """Found by the fuzzer with every check on: DRF's paginator read `offset=null`, `limit=` or a repeated
    parameter as the first page, and `?status=` listed everything; the schema types them (integer ≥ 0 / ≥ 1,
    one of the statuses), so the API refuses them, naming the parameter."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {on_top_of_the_world.tokens['filer']}")
    response = client.get(f"/api/v1/filings/?{query}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and set(error["details"]) == {parameter}
    assert client.get("/api/v1/filings/?offset=0&limit=1").status_code == 200


def test_a_value_that_is_neither_number_text_nor_null_is_refused(on_top_of_the_world):
    """The schema documents a sheet value as a number, a text or null; true was stored as an unreadable value."""
    from rest_framework.test import APIClient

    world = on_top_of_the_world
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens['filer']}")
    march = Filing.objects.get(pk__in=world.filings, period__form=Form.MONITORING, period__month=3)
    url = f"/api/v1/institutions/{march.institution_id}/periods/{march.period_id}/check/"
    response = client.post(url, {"values": {"loan_balance": True}}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"values": {"loan_balance": ["须为数字、文本或 null。"]}}
    assert client.post(url, {"values": {"loan_balance": "12.5"}}, format="json").status_code == 200
