"""The input of the returns' pages, validated before a service is called. Values of a return are handed to
services.save_version as typed: reading them ("11万", "1,234.5") is parsing.py's job and checking them the rule
registry's, so no form here converts a value of a return."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from portal.forms import KEEP_AS_TYPED, DigitsField, RawField


class LockVersionField(DigitsField):
    """The version of the row the page was drawn from: a number, or none (the service then does not check)."""


class CheckedField(forms.CharField):
    """A checkbox: ticked only when the browser sent "on"."""

    def __init__(self, **kwargs):
        super().__init__(**{**KEEP_AS_TYPED, **kwargs})

    def to_python(self, value):
        return super().to_python(value) == "on"


class UploadField(forms.Field):
    """A file, only required to be there: what it holds (type, size, content) is uploads.py's to check, with
    its own messages, an empty file included."""

    widget = forms.FileInput


class ListField(forms.Field):
    """Every value sent under the name (checkboxes of the same name), as sent."""

    widget = forms.MultipleHiddenInput

    def __init__(self, **kwargs):
        super().__init__(**{"required": False, **kwargs})

    def to_python(self, value):
        return [str(v) for v in value or []]


def prefixed(data, prefix: str) -> dict[str, str]:
    """Fields named <prefix><key> (explain:W204, comment:A01) → {key: text}."""
    return {key[len(prefix) :]: value for key, value in data.items() if key.startswith(prefix)}


def first_error(form: forms.Form) -> str:
    """The message to show for an invalid form: the first field's, in the order the fields are declared."""
    for name in [*form.fields, NON_FIELD_ERRORS]:
        if name in form.errors:
            return form.errors[name][0]
    return ""


class SheetForm(forms.Form):
    """附件4 / 附件3 / 附件2 as filled in on the page: one field per field of the edition's definition, an
    explanation per warning key (explain:<key>), and the lock version the page was drawn from."""

    lock_version = LockVersionField()

    def __init__(self, data, *, definition, **kwargs):
        super().__init__(data, **kwargs)
        for code in definition.codes:
            self.fields[code] = RawField()
        self.codes = list(definition.codes)

    def clean(self):
        cleaned = super().clean()
        cleaned["raw"] = {code: cleaned.get(code, "") for code in self.codes}
        cleaned["explanations"] = prefixed(self.data, "explain:")
        cleaned["expected_lock_version"] = cleaned.get("lock_version")
        return cleaned


class LockVersionForm(forms.Form):
    """An action on a return (approve, upload a document) that only carries the page's lock version."""

    lock_version = LockVersionField()


class SubmitForm(LockVersionForm):
    confirm = CheckedField()


class ReturnForm(LockVersionForm):
    """退回: the reason, and the officer's comments per field (comment:<code>)."""

    reason = RawField()

    def clean_reason(self):
        reason = self.cleaned_data["reason"]
        if not reason.strip():
            raise forms.ValidationError(
                "退回时必须填写退回原因，告诉机构需要修改什么。", code="reason_required"
            )
        return reason

    def clean(self):
        cleaned = super().clean()
        cleaned["field_comments"] = prefixed(self.data, "comment:")
        return cleaned


class ReopenForm(LockVersionForm):
    reason = RawField()

    def clean_reason(self):
        reason = self.cleaned_data["reason"]
        if not reason.strip():
            raise forms.ValidationError("重新打开已通过的报表必须填写原因。", code="reason_required")
        return reason


class WorkbookForm(forms.Form):
    """A filled-in 附件4 / 附件3 workbook (its content is checked by uploads.py)."""

    file = UploadField(error_messages={"required": "请选择要上传的 Excel 文件（.xlsx）。"})


class BulkImportForm(forms.Form):
    file = UploadField(error_messages={"required": "请选择要导入的 Excel 文件（.xlsx）。"})


class DocumentForm(LockVersionForm):
    """工作方案 / 经验做法: a PDF or Word file (checked by content in uploads.py)."""

    file = UploadField(error_messages={"required": "请选择要上传的 PDF 或 Word（.docx）文件。"})


class BulkApproveForm(forms.Form):
    filing = ListField()
    next = RawField()

    def clean_filing(self):
        return [int(x) for x in self.cleaned_data["filing"] if x.isdigit()]


class ImportDecisionForm(forms.Form):
    """The officer's decision on a bulk import's preview (a reason for replacing is the service's to ask for:
    it alone knows which rows replace a bank's own sheet)."""

    replace = ListField()
    reason = RawField()
    approve = CheckedField()


class UrgeForm(forms.Form):
    next = RawField()

    def clean_next(self):
        # back to the page it came from, never to another site
        target = self.cleaned_data["next"]
        return target if target.startswith("/") and not target.startswith("//") else ""
