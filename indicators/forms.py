"""The input of the indicators' pages (supervision log, refresh, 监测通报, next year's campaign), checked before a service is called.
The kind of a supervision, its reason and a bulletin's paragraphs are the services' to judge; the forms read
the dates and the month and hand the rest over as typed."""

from datetime import date

from django import forms

from portal.errors import ServiceError
from portal.forms import RawField

from .campaigns import parse_targets


class AsSentField(forms.Field):
    """A value exactly as sent — None when the browser did not send it at all (a service may tell "leave as
    it is" from "blank")."""

    def __init__(self, **kwargs):
        super().__init__(**{"required": False, **kwargs})


class NextField(RawField):
    """Where to go back to after the action (the page it was taken from)."""


class DateField(RawField):
    """A date as 年-月-日 (ISO); blank or unreadable is refused with the page's message."""

    def __init__(self, *, message: str, **kwargs):
        super().__init__(**kwargs)
        self.message = message

    def to_python(self, value):
        try:
            return date.fromisoformat(super().to_python(value))
        except ValueError:
            raise forms.ValidationError(self.message) from None


SUPERVISION_DATE = "请填写督导日期（年-月-日）。"


class SupervisionForm(forms.Form):
    """约谈 / 现场督导 / 通报 recorded against an institution (the institution is looked up, and refused, by
    institutions.access before the form's message)."""

    institution = AsSentField()
    taken_on = DateField(message=SUPERVISION_DATE)
    kind = RawField()
    reason = RawField()
    follow_up = RawField()
    next = NextField()


class FollowUpForm(forms.Form):
    follow_up = RawField()
    next = NextField()


class RefreshForm(forms.Form):
    next = NextField()


class BulletinMonthForm(forms.Form):
    """The month a bulletin is generated for, as 2022-06."""

    period = RawField()

    def clean_period(self) -> tuple[int, int]:
        try:
            year, month = (int(x) for x in self.cleaned_data["period"].split("-"))
        except ValueError:
            raise forms.ValidationError("请选择通报的月份（年-月）。") from None
        return year, month


class BulletinTextForm(forms.Form):
    """The officer's edits of a drafted bulletin: one field per paragraph (p-<key>; a paragraph not sent keeps
    its text), the title (not sent: kept), and then=publish to publish right after saving."""

    title = AsSentField()
    then = RawField()

    def __init__(self, data, *, paragraphs, **kwargs):
        super().__init__(data, **kwargs)
        self.keys = [p["key"] for p in paragraphs]
        for key in self.keys:
            self.fields[f"p-{key}"] = AsSentField()

    def clean(self):
        cleaned = super().clean()
        cleaned["texts"] = {
            key: cleaned[f"p-{key}"] for key in self.keys if cleaned.get(f"p-{key}") is not None
        }
        cleaned["publish"] = cleaned.get("then") == "publish"
        return cleaned


class BulletinSupervisionForm(forms.Form):
    """From a bulletin's 不到位 list: a supervision of the institution, a 通报 e-mailed when email=1."""

    institution = AsSentField()
    taken_on = DateField(message=SUPERVISION_DATE)
    kind = RawField()
    reason = RawField()
    email = RawField()

    def clean_email(self) -> bool:
        return self.cleaned_data["email"] == "1"


class CampaignForm(forms.Form):
    """The year's campaign as typed on the admin's page, previewed (GET) or set up (POST): the year, the
    monthly deadline's day, the annual returns' deadline and the province targets (target:<indicator>).
    Checked in the order the page has always named the first problem: year, annual deadline, day, targets."""

    year = RawField()
    annual_due_on = RawField()
    due_day = RawField()

    def __init__(self, data, *, default_year: int, preview: bool, **kwargs):
        super().__init__(data, **kwargs)
        self.default_year = default_year
        self.preview = preview

    @staticmethod
    def _int(text: str, default: int) -> int:
        try:
            return int(text.strip()) if text.strip() else default
        except ValueError:
            raise forms.ValidationError(f"“{text[:10]}”不是整数。") from None

    def clean_year(self) -> int:
        return self._int(self.cleaned_data["year"], self.default_year)

    def clean_annual_due_on(self) -> date | None:
        text = self.cleaned_data["annual_due_on"]
        try:
            return date.fromisoformat(text.strip()) if text.strip() else None
        except ValueError:
            raise forms.ValidationError(f"日期“{text[:20]}”无效，请按 YYYY-MM-DD 填写。") from None

    def clean_due_day(self) -> int:
        return self._int(self.cleaned_data["due_day"], 15)

    def clean(self):
        cleaned = super().clean()
        year, due = cleaned.get("year"), cleaned.get("annual_due_on")
        cleaned["annual_due_text"] = self.data.get("annual_due_on", "")
        if self.preview and year is not None and due and due.year != year:
            # previewing another year: the date in the field was the previous preview's, carried over to the
            # same day of this year (setting up still refuses a date outside the year)
            cleaned["annual_due_on"] = due = _same_day_in(due, year)
            cleaned["annual_due_text"] = due.isoformat()
        try:
            cleaned["targets"] = parse_targets(self.data)
        except ServiceError as exc:
            raise forms.ValidationError(exc.message) from None
        return cleaned

    def typed(self, name: str, default=""):
        """A field as typed, to show again."""
        return self.data.get(name, default)


def _same_day_in(day: date, year: int) -> date:
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February
        return day.replace(year=year, day=28)
