"""Pre-load the 1-year LPR (fixtures/lpr-1y-2021-2023.csv) and the 2022 targets of 武银〔2022〕45号.

Rows are created only when missing, so re-running (or loaddemo, which loads the same data) keeps an admin's
later corrections."""

from django.db import migrations


def load(apps, schema_editor):
    from indicators import presets

    LoanPrimeRate = apps.get_model("indicators", "LoanPrimeRate")
    Target = apps.get_model("indicators", "Target")
    for year, month, rate in presets.lpr_rows():
        LoanPrimeRate.objects.get_or_create(year=year, month=month, defaults={"rate": rate})
    for row in presets.targets_2022():
        keys = {k: row[k] for k in ("year", "scope", "indicator", "basis", "applies_to")}
        Target.objects.get_or_create(**keys, institution=None, defaults=row)


def unload(apps, schema_editor):
    from indicators import presets

    Target = apps.get_model("indicators", "Target")
    for row in presets.targets_2022():
        Target.objects.filter(
            year=row["year"],
            scope=row["scope"],
            indicator=row["indicator"],
            basis=row["basis"],
            institution=None,
        ).delete()
    apps.get_model("indicators", "LoanPrimeRate").objects.filter(
        year__in={y for y, _m, _r in presets.lpr_rows()}
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("indicators", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
