"""Recognising an institution by the name a bank or a branch typed into a sheet.

People write "湖北银行股份有限公司", "湖北银行", "中国工商银行湖北省分行", "工商银行湖北分行" or "工行" for the
institutions of 附件1; the master data holds one full name and one short name. `same_institution` accepts
the usual variants: the legal-form suffix dropped, a leading 中国 dropped, the short name with the branch's
own suffix (湖北省分行 / 湖北分行 / 武汉分行), and the well-known abbreviations below.
"""

import re
from functools import lru_cache

from .headings import compact

_LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司")
_PLACEHOLDER = re.compile(r"^(?:[Xx]+|某)(?:银行|机构|行)?$")
_BRANCH = re.compile(r"(湖北省分行|湖北分行|武汉分行|湖北省分公司)$")

# Abbreviations in everyday use, by short name (as fixtures/institutions.csv).
ABBREVIATIONS = {
    "工商银行": ("工行",),
    "建设银行": ("建行",),
    "农业银行": ("农行",),
    "中国银行": ("中行",),
    "交通银行": ("交行",),
    "邮储银行": ("邮政储蓄银行", "邮储"),
    "招商银行": ("招行",),
    "农发行": ("农业发展银行", "农发银行"),
    "浦发银行": ("上海浦东发展银行",),
    "武汉农商行": ("武汉农村商业银行", "武汉农商银行"),
    "湖北省联社": ("湖北省农村信用社联合社", "湖北农信", "湖北省农信社"),
    "众邦银行": ("武汉众邦银行",),
}


def is_placeholder(name: str) -> bool:
    """Blank, or the notice's own placeholder left in (XX银行)."""
    text = compact(name)
    return not text or bool(_PLACEHOLDER.match(text)) or text in ("机构名称", "银行名称")


def _without_legal_form(text: str) -> str:
    for form in _LEGAL_FORMS:
        text = text.replace(form, "")
    return text


@lru_cache(maxsize=256)
def variants(full: str, short: str) -> frozenset[str]:
    """Every compacted spelling taken for this institution."""
    full_c, short_c = compact(full), compact(short)
    heads = {full_c, short_c, _without_legal_form(full_c), *map(compact, ABBREVIATIONS.get(short, ()))}
    branch = _BRANCH.search(_without_legal_form(full_c))
    tails = {""}
    if branch:
        tail = branch.group(1)
        tails |= {tail, tail.replace("湖北省", "湖北"), tail.replace("湖北分行", "湖北省分行")}
        heads.add(_without_legal_form(full_c)[: branch.start()])
    out = set()
    for head in heads:
        for stem in {head, head.removeprefix("中国")}:
            base = _BRANCH.sub("", stem)
            if base and not base.startswith("银行"):  # 中国银行 without 中国 is no name
                out |= {base + tail for tail in tails}
    out.discard("")
    return frozenset(out)


def same_institution(name: str, full: str, short: str) -> bool:
    return compact(name) in variants(full, short)
