"""The error pages answer in the shape of the request: JSON under /api/, HTML elsewhere; a database out of
reach is a 503; and the 500 page claims nothing about data it cannot know was saved."""

import json

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from portal.views import server_error


def handled(path: str, exc: Exception):
    """server_error as Django calls it: inside the except block of the failed request."""
    try:
        raise exc
    except Exception:
        return server_error(RequestFactory().get(path))


def test_an_api_request_during_a_database_outage_gets_the_api_error_shape_with_503():
    response = handled("/api/v1/me/", OperationalError("could not connect to server"))
    assert response.status_code == 503 and response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert (
        body["error"]["code"] == "service_unavailable"
        and "could not connect" not in response.content.decode()
    )


def test_any_other_api_failure_is_a_json_500():
    response = handled("/api/v1/me/", RuntimeError("boom"))
    assert response.status_code == 500 and json.loads(response.content)["error"]["code"] == "server_error"


@pytest.mark.parametrize(("exc", "status"), [(OperationalError("down"), 503), (RuntimeError("boom"), 500)])
def test_the_html_error_page_does_not_claim_the_data_was_kept(exc, status):
    response = handled("/reporting/", exc)
    page = response.content.decode()
    assert response.status_code == status and "系统暂时无法处理您的请求" in page
    assert "没有丢失" not in page and "boom" not in page
