"""The demo clock (portal/clock.py, setting DEMO_TODAY): deadlines, 逾期 and open periods follow the demo's day,
so the 2022 demo world is not read as long overdue against the real date."""

from datetime import date, datetime

import pytest

from reporting.models import Filing, FilingStatus
from tests.factories import periods
from tests.worlds import SHANGHAI

REAL_NOW = datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)
DEMO_DAY = date(2023, 1, 10)


@pytest.fixture
def real_now(time_machine):
    time_machine.move_to(REAL_NOW, tick=False)


def test_without_a_demo_clock_the_real_date_decides(master, real_now, settings):
    settings.DEMO_TODAY = None
    december = periods()[(2022, 12)]
    assert december.is_overdue()
    filing = Filing(institution=master["A"], period=december, first_submitted_at=REAL_NOW)
    assert filing.is_late


def test_the_demo_clock_decides_deadlines_and_open_periods(master, real_now, settings):
    settings.DEMO_TODAY = DEMO_DAY
    found = periods()
    assert found[(2022, 12)].is_open() and not found[(2022, 12)].is_overdue()  # due 2023-01-15
    assert found[(2022, 11)].is_overdue()  # due 2022-12-15, before the demo's day
    # what a visitor does in the demo is stamped with the real time, and is on time before the demo deadline
    filing = Filing(institution=master["A"], period=found[(2022, 12)], first_submitted_at=REAL_NOW)
    assert not filing.is_late
    assert Filing(institution=master["A"], period=found[(2022, 11)], first_submitted_at=REAL_NOW).is_late


def test_the_bank_home_page_reads_the_demo_clock(client_for, master, real_now, settings):
    found = periods((2022, 11), (2022, 12))
    Filing.objects.create(institution=master["A"], period=found[(2022, 11)], status=FilingStatus.APPROVED)
    Filing.objects.filter(period=found[(2022, 11)]).update(
        first_submitted_at=datetime(2022, 12, 12, 16, 0, tzinfo=SHANGHAI)
    )
    client = client_for("filer_a")

    settings.DEMO_TODAY = None
    page = client.get("/").content.decode()
    assert "已逾期" in page and 'id="demo-clock"' not in page

    settings.DEMO_TODAY = DEMO_DAY
    page = client.get("/").content.decode()
    assert "已逾期" not in page  # 2022年12月 is due 2023-01-15, five days after the demo's day
    assert "2022年12月" in page
    assert 'id="demo-clock"' in page and "2023-01-10" in page
