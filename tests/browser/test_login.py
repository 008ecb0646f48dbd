"""Signing in through a real browser: each role lands on its own home page; the language switch works."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    form = page.locator("main form")
    form.locator('input[name="username"]').fill(username)
    form.locator('input[name="password"]').fill(password)
    form.locator('button[type="submit"]').click()


@pytest.mark.parametrize(
    ("username", "heading", "not_in_heading"),
    [
        pytest.param("filer_a", "工商银行", "辖区", id="filer_a"),
        pytest.param("signer_a", "工商银行", "辖区", id="signer_a"),
        pytest.param("officer_in", "辖区", "管理", id="officer_in"),
        pytest.param("pboc_admin", "管理", "工商银行", id="pboc_admin"),
    ],
)
def test_each_role_lands_on_its_home_page_and_can_switch_to_english(
    page, live_server, users, username, heading, not_in_heading
):
    html = page.locator("html")

    sign_in(page, username, PASSWORD)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("h1")).to_contain_text(heading)
    expect(page.locator("h1")).not_to_contain_text(not_in_heading)
    expect(html).to_have_attribute("lang", "zh-hans")

    with page.expect_navigation():
        page.locator('form[action="/i18n/setlang/"] select[name="language"]').select_option("en")

    expect(page).to_have_url(f"{live_server.url}/")
    expect(html).to_have_attribute("lang", "en")
    expect(page.locator('select[name="language"]')).to_have_value("en")

    page.reload()
    expect(html).to_have_attribute("lang", "en")


def test_wrong_password_shows_the_chinese_message_and_stays_signed_out(page, live_server, users):
    sign_in(page, "filer_a", PASSWORD + "-wrong")

    expect(page.get_by_role("alert")).to_contain_text("用户名或密码不正确")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator('input[name="username"]')).to_have_value("filer_a")

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
