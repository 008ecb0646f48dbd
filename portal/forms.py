"""Form fields every app's pages use: the input as typed, for the service to read and refuse in words."""

from django import forms

KEEP_AS_TYPED = {"required": False, "strip": False}


class RawField(forms.CharField):
    """A value as the browser sent it (blank when absent), never stripped: the service reads it."""

    def __init__(self, **kwargs):
        super().__init__(**{**KEEP_AS_TYPED, **kwargs})


class DigitsField(forms.CharField):
    """A whole number typed as digits, or none when blank or anything else (never refused)."""

    def __init__(self, **kwargs):
        super().__init__(**{**KEEP_AS_TYPED, **kwargs})

    def to_python(self, value):
        raw = super().to_python(value)
        return int(raw) if raw.isdigit() else None
