"""The input of the evaluation's pages, checked before a service is called. What only the service can judge
(a grade's reason, a score against its sub-criteria, who may do what) stays the service's: the forms read the
text as typed and turn numbers and the scoring steps into what the services take."""

from django import forms

from portal.forms import DigitsField, RawField
from reporting.forms import LockVersionField, prefixed

from . import services
from .models import ResultOrder

ITEM_FIELDS = (
    "weight",
    "method",
    "floor_share",
    "target",
    "steps",
    "indicator_code",
    "indicator_year",
    "indicator_month",
)


def parse_steps(text: str, name: str) -> list[dict]:
    """ "0.3:1；0.2:0.8" → [{"min": "0.3", "share": "1"}, …] (semicolons or new lines between steps)."""
    out = []
    for part in text.replace("；", ";").replace("\n", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        if ":" not in part.replace("：", ":"):
            raise forms.ValidationError(f"“{name}”的分档“{part}”应写成 下限:得分比例，如 0.3:1。")
        minimum, share = part.replace("：", ":").split(":", 1)
        out.append({"min": minimum.strip(), "share": share.strip()})
    return out


class CreateForm(forms.Form):
    """A new evaluation: the year and the PBoC office whose institutions it covers."""

    jurisdiction = DigitsField()
    year = DigitsField()

    def clean_year(self):
        year = self.cleaned_data["year"]
        if year is None:
            raise forms.ValidationError("请填写评估年度。")
        return year


class SchemeForm(forms.Form):
    """The scheme of a draft as the admin's page posts it: for each item item-<pk>-<setting> (weight, method,
    floor share, target, scoring steps, the indicator and its month), then the grading rule, its thresholds,
    the order of the results and the lock version. Cleaned into services.ItemSettings per item."""

    grading_method = RawField()
    excellent = RawField()
    good = RawField()
    fair = RawField()
    result_order = RawField()
    lock_version = LockVersionField()

    def __init__(self, data, *, items, **kwargs):
        super().__init__(data, **kwargs)
        self.items = list(items)
        for item in self.items:
            for name in ITEM_FIELDS:
                field = DigitsField() if name in ("indicator_year", "indicator_month") else RawField()
                self.fields[f"item-{item.pk}-{name}"] = field

    def clean_result_order(self):
        # a page without the choice keeps the listed order; a blank choice is the service's to refuse
        return self.cleaned_data["result_order"] if "result_order" in self.data else ResultOrder.LISTED

    def clean(self):
        cleaned = super().clean()
        changes = {}
        for item in self.items:  # the first item whose steps cannot be read is named, in the scheme's order
            value = {name: cleaned.get(f"item-{item.pk}-{name}") for name in ITEM_FIELDS}
            changes[item.pk] = services.ItemSettings(
                weight=value["weight"],
                method=value["method"],
                floor_share=value["floor_share"] or "0",
                target=value["target"].strip() or None,
                steps=parse_steps(value["steps"], item.name),
                indicator_code=value["indicator_code"],
                indicator_year=value["indicator_year"],
                indicator_month=value["indicator_month"],
            )
        cleaned["items"] = changes
        cleaned["thresholds"] = (cleaned.get("excellent"), cleaned.get("good"), cleaned.get("fair"))
        return cleaned

    def typed(self, name: str, default):
        """A setting as typed, to show again after a refusal; the stored one before any post."""
        return self.data.get(name, default) if self.is_bound else default


class ScoreForm(forms.Form):
    """An officer's score of a 定性 item: the value, a score per sub-criterion (criterion-<key>), a comment."""

    value = RawField()
    comment = RawField()
    lock_version = LockVersionField()

    def clean(self):
        cleaned = super().clean()
        cleaned["criteria"] = prefixed(self.data, "criterion-")
        return cleaned


class OverrideForm(forms.Form):
    """Another grade than the rule's, with its reason (both checked by the service), or clear=1 to undo."""

    clear = RawField()
    grade = RawField()
    reason = RawField()

    def clean_clear(self):
        return bool(self.cleaned_data["clear"])


class DisclosureForm(forms.Form):
    """公示覆盖情况: outlets, outlets disclosed, channels, as typed (the service reads the numbers)."""

    outlets = RawField()
    outlets_disclosed = RawField()
    channels = RawField()
    lock_version = LockVersionField()


class RemoveEvidenceForm(forms.Form):
    evidence = DigitsField()

    def clean_evidence(self):
        return self.cleaned_data["evidence"] or 0


class EvidenceForm(forms.Form):
    """A list or a piece of 公示 evidence: a file (checked by content in the service), a link, or both."""

    kind = RawField()
    file = forms.Field(required=False, widget=forms.FileInput)
    link = RawField()
    note = RawField()


class PublishForm(forms.Form):
    lock_version = LockVersionField()


class EvidenceActionForm(forms.Form):
    """Which of the evidence page's forms was posted: disclosure, remove, or (anything else) a new item."""

    form = RawField()
