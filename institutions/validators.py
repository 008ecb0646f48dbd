"""The password policy's messages in Chinese where Django's own catalogue has none (its minimum-length message
changed wording in Django 5 and the zh_Hans catalogue still lacks it)."""

from django.contrib.auth import password_validation
from django.utils.translation import gettext


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_error_message(self):
        return gettext("密码太短：至少需要 %(min_length)d 个字符。") % {"min_length": self.min_length}

    def get_help_text(self):
        return gettext("密码至少需要 %(min_length)d 个字符。") % {"min_length": self.min_length}
