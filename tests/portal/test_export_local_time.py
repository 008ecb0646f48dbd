"""Exports stamp the portal's local time (Asia/Shanghai), as the pages do — not the UTC they are stored in."""

from datetime import UTC, datetime

from openpyxl import Workbook

from indicators import excel
from indicators.models import RefreshRun
from indicators.selectors import AsOf


def test_indicator_workbooks_say_data_cut_off_in_local_time():
    run = RefreshRun(
        status=RefreshRun.Status.DONE,
        finished_at=datetime(2023, 1, 9, 16, 5, tzinfo=UTC),  # 2023-01-10 00:05 in Wuhan
        latest_approval_at=datetime(2023, 1, 9, 8, 30, tzinfo=UTC),  # 16:30 in Wuhan
    )
    ws = Workbook().active
    excel._title(ws, "监测指标", {"as_of": AsOf(run=run, pending=None, stale=False)}, 4)
    assert ws["A2"].value.startswith("数据截至 2023-01-10 00:05（已纳入最近一次审核通过：2023-01-09 16:30）")
