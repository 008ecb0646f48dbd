"""PDFs rendered by WeasyPrint from a template, for every app that prints (the evaluation's 附件1 table and
report cards, the monitoring bulletin), and the small inline-SVG trend chart they draw.

Fonts: the PDFs embed WenQuanYi Zen Hei, a TrueType CJK font from Debian's fonts-wqy-zenhei (installed by
.ci/run and the Dockerfile), loaded from its file through @font-face. WeasyPrint subsets a TrueType font per
document with HarfBuzz in a fraction of a second — unlike a 65k-glyph CFF font such as Noto CJK, which costs
seconds per render — so no pre-built subset is needed (evaluation/README.md has the measurements). Fetching
is restricted to that font file and data: URIs: a PDF never downloads anything, a font least of all.
"""

from __future__ import annotations

import logging
import math
import os
import re
import statistics
import time
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from weasyprint import HTML
from weasyprint.urls import URLFetcher

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # Debian/Ubuntu: fonts-wqy-zenhei
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",  # Fedora/RHEL: wqy-zenhei-fonts
)
FONT_FAMILY = "PortalCJK"

# WeasyPrint reports each rendering step at INFO; the portal's console needn't hear about them.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def font_path() -> Path:
    """The CJK font file the PDFs embed (setting EVALUATION_PDF_FONT overrides the search)."""
    configured = getattr(settings, "EVALUATION_PDF_FONT", None) or os.environ.get("EVALUATION_PDF_FONT")
    for candidate in ([configured] if configured else []) + list(FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise ImproperlyConfigured(
        "生成 PDF 需要中文字体文泉驿正黑（WenQuanYi Zen Hei）：请安装 Debian 软件包 fonts-wqy-zenhei"
        "（.ci/run 与 Dockerfile 已包含），或以 EVALUATION_PDF_FONT 指定字体文件路径。"
    )


def _fetcher(font: Path):
    """WeasyPrint's fetcher limited to the font file and data: URIs (no network, no other file)."""

    allowed = font.as_uri()

    class LocalOnly(URLFetcher):
        def fetch(self, url, headers=None):
            if url != allowed and not url.startswith("data:"):
                raise ValueError(f"PDF 渲染不加载外部资源：{url[:80]}")
            return super().fetch(url, headers)

    return LocalOnly(allowed_protocols={"file", "data"}, allow_redirects=False)


def _write(html: str, font: Path) -> bytes:
    return HTML(string=html, url_fetcher=_fetcher(font), base_url=str(settings.BASE_DIR)).write_pdf()


def render_html(template: str, context: dict, font: Path | None = None) -> str:
    font = font or font_path()
    face = mark_safe(f'@font-face {{ font-family: "{FONT_FAMILY}"; src: url("{font.as_uri()}"); }}')
    return render_to_string(template, {**context, "font_face": face, "font_family": FONT_FAMILY})


def render(template: str, context: dict) -> bytes:
    font = font_path()
    return _write(render_html(template, context, font), font)


# --- the trend chart ------------------------------------------------------------------------------------------

WIDTH, HEIGHT = 330, 170
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 22, 26


def _nice_range(values: list[float]) -> tuple[float, float, float]:
    lo, hi = min(values + [0.0]), max(values + [0.0])
    if hi == lo:
        hi = lo + 1
    span = hi - lo
    raw = span / 4
    magnitude = 10 ** int(f"{raw:e}".split("e")[1])
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step, step


def trend_svg(title: str, series: list[tuple[str, list, str, bool]], *, percent: bool = True) -> SafeString:
    """A small monthly line chart as inline SVG: series = [(label, 12 values or None, colour, dashed)].
    Values are fractions when `percent` (0.253 → 25.3%). Months without a value break the line."""
    points = [
        float(v) * (100 if percent else 1) for _l, vals, _c, _d in series for v in vals if v is not None
    ]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" class="trend" font-family="{FONT_FAMILY}">',
        f'<text x="{LEFT}" y="13" font-size="10" font-weight="bold" fill="#1d2733">{escape(title)}</text>',
    ]
    if not points:
        short = 56
        out[0] = out[0].replace(
            f'0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}"',
            f'0 0 {WIDTH} {short}" width="{WIDTH}" height="{short}"',
        )
        out.append(
            f'<text x="{LEFT}" y="36" font-size="9" fill="#5f6b7a">—（该年度无可计算的指标值：缺少上年同期或年初的已审核数据）</text></svg>'
        )
        return mark_safe("".join(out))
    lo, hi, step = _nice_range(points)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(month: int) -> float:
        return LEFT + plot_w * (month - 1) / 11

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - lo) / (hi - lo))

    tick = lo
    while tick <= hi + step / 1000:
        label = f"{tick:g}{'%' if percent else ''}"
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#d6dde6" stroke-width="0.5"/>'
            f'<text x="{LEFT - 4}" y="{y(tick) + 3:.1f}" font-size="8" fill="#5f6b7a" text-anchor="end">{label}</text>'
        )
        tick += step
    for month in range(1, 13):
        out.append(
            f'<text x="{x(month):.1f}" y="{HEIGHT - BOTTOM + 11}" font-size="8" fill="#5f6b7a" text-anchor="middle">{month}月</text>'
        )
    legend_x = LEFT
    for label, values, colour, dashed in series:
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        runs: list[list[str]] = [[]]
        for month, value in enumerate(values, start=1):
            if value is None:
                runs.append([])
                continue
            runs[-1].append(f"{x(month):.1f},{y(float(value) * (100 if percent else 1)):.1f}")
        for run in runs:
            if len(run) > 1:
                out.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="1.6"{dash} points="{" ".join(run)}"/>'
                )
            for p in run:
                cx, cy = p.split(",")
                out.append(f'<circle cx="{cx}" cy="{cy}" r="1.8" fill="{colour}"/>')
        out.append(
            f'<line x1="{legend_x}" x2="{legend_x + 14}" y1="{HEIGHT - 6}" y2="{HEIGHT - 6}" stroke="{colour}" stroke-width="1.6"{dash}/>'
            f'<text x="{legend_x + 17}" y="{HEIGHT - 3}" font-size="8" fill="#1d2733">{escape(label)}</text>'
        )
        legend_x += 20 + 9 * len(label)
    out.append("</svg>")
    return mark_safe("".join(out))


# --- timing: the CJK page against the same page in a Latin font -----------------------------------------------

# fontconfig depends on one of these on Debian (fonts-dejavu-core or fonts-liberation).
LATIN_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
)


def latin_font() -> Path:
    for path in LATIN_FONTS:
        if path.is_file():
            return path
    raise ImproperlyConfigured(
        "对比测量需要拉丁字体 DejaVu Sans 或 Liberation Sans（fonts-dejavu-core / fonts-liberation）。"
    )


def timing(template: str, context: dict, *, runs: int = 5) -> dict[str, float]:
    """Median seconds to render the page with the CJK font, and the same page with every CJK character
    replaced by a Latin letter in DejaVu Sans (fonts-dejavu-core) — what a Latin-only report costs."""
    latin_path = latin_font()
    cjk = font_path()
    html = render_html(template, context, cjk)
    latin = re.sub(
        r"[\u2e80-\u9fff\uff00-\uffef\u3000-\u303f“”]", "X", render_html(template, context, latin_path)
    )
    out = {}
    for label, page, font in (("cjk", html, cjk), ("latin", latin, latin_path)):
        _write(page, font)  # first render loads the font file; measure the steady state
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            _write(page, font)
            times.append(time.perf_counter() - start)
        out[label] = statistics.median(times)
    return out
