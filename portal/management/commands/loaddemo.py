"""python manage.py loaddemo — master data, demo accounts and three years (2020–2022) of synthetic monthly data.

It lives with the project, not in an app: it brings every app's demo data together, and no app imports the
others for it. Idempotent: master data is updated in place; accounts are created once; the monthly data is generated only
when the database has none, so a second run takes a moment.
"""

from django.core.management.base import BaseCommand

from evaluation.demo import load_demo_evaluations
from indicators.services import load_demo_indicators, load_reference_data
from institutions.demo import DEMO_PASSWORD, load_demo_contacts, load_demo_users
from institutions.models import Role, User
from institutions.services import load_master_data
from reporting.demo import load_annual_data, load_monthly_data
from reporting.demo_2023 import load_2023_data
from reporting.models import Filing


class Command(BaseCommand):
    help = "加载主数据、演示账号和 2020–2022 年演示监测数据（可重复执行）。"

    def handle(self, *args, **options):
        counts = load_master_data()
        self.stdout.write(
            f"主数据：{counts['regions']} 个区域，{counts['offices']} 个人民银行分支机构，{counts['institutions']} 家金融机构"
        )
        users = load_demo_users()
        load_demo_contacts()
        self.stdout.write(f"演示账号：{', '.join(u.username for u in users)}（密码 {DEMO_PASSWORD}）")
        ref = load_reference_data()
        self.stdout.write(f"指标参考数据：新增一年期LPR {ref['lpr']} 个月、2022年目标 {ref['targets']} 项")
        if Filing.objects.exists():
            self.stdout.write("监测数据已存在，跳过生成。")
            if not Filing.objects.filter(period__year=2020).exists():
                self.stdout.write(
                    "提示：这份演示数据库由旧版本生成（没有 2020 年数据，增量同比显示为“—”）；"
                    "删除 var/portal.sqlite3 后重新运行 make run 即可得到新版演示数据。"
                )
            self.stdout.write(load_demo_indicators())
            self.stdout.write(load_demo_evaluations())
            return
        officer = User.objects.get(username="officer_wh")
        signers = {
            u.institution.code: u
            for u in User.objects.filter(role=Role.BANK_SIGNER).select_related("institution")
        }
        made = load_monthly_data(officer=officer, signers=signers)
        self.stdout.write(f"演示监测数据：{made} 张报表（2020年1月—2022年12月）")
        made = load_annual_data(officer=officer, signers=signers)
        self.stdout.write(f"演示年度报送：{made} 份（附件3 计划、附件2 联系人、工作方案、经验做法）")
        made = load_2023_data(officer=officer, signers=signers)
        self.stdout.write(f"演示 2023 年监测数据：{made} 张报表（2023年1—6月，2023年版监测表）")
        self.stdout.write(load_demo_indicators())
        self.stdout.write(load_demo_evaluations())
