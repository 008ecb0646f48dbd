"""The pages' forms: what they hand the services (values of a return as typed, never parsed) and the messages
they refuse with, in the order the pages name them."""

from django.http import QueryDict

from indicators.forms import BulletinMonthForm, BulletinTextForm, CampaignForm, SupervisionForm
from reporting.definitions import definition_for
from reporting.forms import ReturnForm, SheetForm, first_error
from reporting.models import Form


def _posted(**fields) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, value in fields.items():
        data.setlist(name.replace("__", ":"), value if isinstance(value, list) else [value])
    return data


def test_the_sheet_form_hands_every_field_over_as_typed_with_explanations_and_lock_version():
    definition = definition_for(Form.MONITORING, 2022)
    data = _posted(loan_balance=" 11万 ", new_loans="1,234.5", explain__W204="季节性因素", lock_version="3")
    form = SheetForm(data, definition=definition)
    assert form.is_valid()
    raw = form.cleaned_data["raw"]
    assert set(raw) == set(definition.codes)
    assert raw["loan_balance"] == " 11万 " and raw["new_loans"] == "1,234.5"  # parsing is the validator's job
    assert raw["credit_loan_balance"] == ""  # a field not sent is blank, as before
    assert form.cleaned_data["explanations"] == {"W204": "季节性因素"}
    assert form.cleaned_data["expected_lock_version"] == 3


def test_the_sheet_form_of_a_table_return_has_a_field_per_cell():
    definition = definition_for(Form.PLAN, 2022)
    form = SheetForm(_posted(**{"420100.balance_y2": "12.5"}), definition=definition)
    assert form.is_valid()
    assert form.cleaned_data["raw"]["420100.balance_y2"] == "12.5"
    assert form.cleaned_data["expected_lock_version"] is None


def test_a_return_without_a_reason_is_refused_with_the_officers_message():
    form = ReturnForm(_posted(reason="  ", comment__loan_balance="请核对"))
    assert not form.is_valid()
    assert first_error(form) == "退回时必须填写退回原因，告诉机构需要修改什么。"
    form = ReturnForm(_posted(reason="余额有误", comment__loan_balance="请核对"))
    assert form.is_valid()
    assert form.cleaned_data["field_comments"] == {"loan_balance": "请核对"}


def test_the_campaign_form_names_the_year_before_the_date_and_the_targets():
    form = CampaignForm(
        _posted(year="二〇二三", annual_due_on="2023-02-30", **{"target:loan_increase_ytd": "很多"}),
        default_year=2023,
        preview=True,
    )
    assert not form.is_valid()
    assert first_error(form) == "“二〇二三”不是整数。"
    form = CampaignForm(_posted(year="2023", annual_due_on="2023-02-30"), default_year=2023, preview=True)
    assert first_error(form) == "日期“2023-02-30”无效，请按 YYYY-MM-DD 填写。"


def test_a_preview_of_another_year_carries_the_deadline_over_and_setting_up_does_not():
    data = _posted(year="2024", annual_due_on="2023-04-28", due_day="")
    preview = CampaignForm(data, default_year=2023, preview=True)
    assert preview.is_valid()
    assert preview.cleaned_data["annual_due_on"].isoformat() == "2024-04-28"
    assert preview.cleaned_data["annual_due_text"] == "2024-04-28"
    assert preview.cleaned_data["due_day"] == 15
    set_up = CampaignForm(data, default_year=2023, preview=False)
    assert set_up.is_valid()
    assert set_up.cleaned_data["annual_due_on"].isoformat() == "2023-04-28"  # refused by the service


def test_a_supervision_without_a_readable_date_is_refused():
    form = SupervisionForm(_posted(institution="7", taken_on="6月1日", next="/indicators/"))
    assert not form.is_valid()
    assert first_error(form) == "请填写督导日期（年-月-日）。"
    assert form.cleaned_data["next"] == "/indicators/"  # back to the page it came from all the same


def test_a_bulletin_month_is_read_as_year_and_month():
    assert not BulletinMonthForm(_posted(period="六月")).is_valid()
    form = BulletinMonthForm(_posted(period="2022-06"))
    assert form.is_valid() and form.cleaned_data["period"] == (2022, 6)


def test_a_bulletin_paragraph_or_title_not_sent_keeps_its_text():
    paragraphs = [{"key": "summary"}, {"key": "failing"}]
    form = BulletinTextForm(
        _posted(**{"p-summary": "全省情况良好", "then": "publish"}), paragraphs=paragraphs
    )
    assert form.is_valid()
    assert form.cleaned_data["texts"] == {"summary": "全省情况良好"}
    assert form.cleaned_data["title"] is None and form.cleaned_data["publish"] is True
