/* Charts of the indicator pages, drawn with the vendored Apache ECharts (static/vendor/echarts/).
 * The page embeds its data with json_script: #trend-data {scope: {code: {this: [12], last: [12]}}},
 * #trend-meta {code: {label, unit, group}}, and on the dashboard #timeliness-data. Values are the numbers shown
 * on the page (percentages ×100); null is a month without a value and leaves a gap, never a zero. */
(function () {
  "use strict";
  if (typeof echarts === "undefined") return;
  // Tooltips drawn inside the chart's SVG: ECharts' HTML tooltips carry style="…" attributes, which the
  // Content-Security-Policy (style-src 'self') refuses. Text lines are separated by "\n", not <br>.
  var TOOLTIP_MODE = "richText";
  var MONTHS = ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"];

  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function formatter(unit) {
    return function (value) {
      if (value === null || value === undefined || isNaN(value)) return "—";
      return Number(value).toLocaleString("zh-CN", { maximumFractionDigits: 2 }) + (unit || "");
    };
  }

  // [value, 1] marks a month computed from only part of the scope's institutions: drawn as a hollow triangle.
  function points(values) {
    return (values || []).map(function (v) {
      if (Array.isArray(v)) {
        return { value: v[0], symbol: "triangle", symbolSize: 9, itemStyle: { color: "#b26a00" }, partial: true };
      }
      return v;
    });
  }

  var trend = data("trend-data");
  var meta = data("trend-meta");
  var trendEl = document.getElementById("trend-chart");
  if (trend && meta && trendEl) {
    var chart = echarts.init(trendEl, null, { renderer: "svg" });
    var pickIndicator = document.getElementById("trend-indicator");
    var pickScope = document.getElementById("trend-scope");
    var draw = function () {
      var scope = pickScope ? pickScope.value : Object.keys(trend)[0];
      var code = pickIndicator.value;
      var series = (trend[scope] || {})[code] || { this: [], last: [] };
      var info = meta[code] || { label: code, unit: "" };
      var fmt = formatter(info.unit);
      chart.setOption(
        {
          title: { text: info.label + "（" + (info.unit || "—") + "）", left: "center", textStyle: { fontSize: 14 } },
          tooltip: {
            trigger: "axis",
            renderMode: TOOLTIP_MODE,
            formatter: function (items) {
              return items
                .map(function (it) {
                  var note = it.data && it.data.partial ? "（部分机构未纳入）" : "";
                  return it.marker + it.seriesName + " " + it.name + "：" + fmt(it.value) + note;
                })
                .join("\n");
            },
          },
          legend: { bottom: 0 },
          grid: { left: 70, right: 24, top: 48, bottom: 48 },
          xAxis: { type: "category", data: MONTHS },
          yAxis: { type: "value", name: info.unit, scale: true, axisLabel: { formatter: fmt } },
          series: [
            {
              name: trendEl.dataset.this,
              type: "line",
              data: points(series.this),
              connectNulls: false,
              symbolSize: 6,
              // the province's target for the year, when there is one
              markLine:
                info.target !== undefined && scope === trendEl.dataset.targetScope
                  ? {
                      symbol: "none",
                      data: [{ yAxis: info.target, name: info.target_label }],
                      label: { formatter: "目标 " + fmt(info.target), position: "insideEndTop" },
                      lineStyle: { type: "dotted", color: "#a4161a" },
                    }
                  : undefined,
            },
            {
              name: trendEl.dataset.last,
              type: "line",
              data: points(series.last),
              connectNulls: false,
              symbolSize: 5,
              lineStyle: { type: "dashed" },
            },
          ],
        },
        true
      );
    };
    if (pickIndicator) pickIndicator.addEventListener("change", draw);
    if (pickScope) pickScope.addEventListener("change", draw);
    window.addEventListener("resize", function () { chart.resize(); });
    draw();
  }

  var rates = data("timeliness-data");
  var ratesEl = document.getElementById("timeliness-chart");
  if (rates && ratesEl) {
    var rateChart = echarts.init(ratesEl, null, { renderer: "svg" });
    var pct = formatter("%");
    rateChart.setOption({
      tooltip: { trigger: "axis", renderMode: TOOLTIP_MODE, valueFormatter: pct },
      legend: { bottom: 0 },
      grid: { left: 50, right: 16, top: 16, bottom: 48 },
      xAxis: { type: "category", data: rates.labels },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: [
        { name: "报送率", type: "bar", data: rates.reporting },
        { name: "按时报送率", type: "line", data: rates.on_time },
      ],
    });
    window.addEventListener("resize", function () { rateChart.resize(); });
  }
})();
