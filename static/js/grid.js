(function () {
  var grid = document.getElementById("grid");
  if (!grid) return;
  function number(text) {
    text = (text || "").replace(/[０-９．－]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xFEE0); })
      .replace(/[，,\s亿元%]/g, "");
    return text === "" || text === "—" ? NaN : Number(text);
  }
  function cellValue(row, col) {
    var input = row.querySelector('input[data-col="' + col + '"]');
    if (input) return number(input.value);
    var total = row.querySelector('[data-total="' + col + '"]');
    return total ? number(total.dataset.value !== undefined ? total.dataset.value : total.textContent) : NaN;
  }
  function format(n, digits) { return n.toLocaleString("zh-CN", {minimumFractionDigits: 0, maximumFractionDigits: digits}); }
  function recompute() {
    var rows = Array.prototype.slice.call(grid.tBodies[0].rows);
    var total = rows.filter(function (r) { return r.classList.contains("total"); })[0];
    if (total) {
      total.querySelectorAll("[data-total]").forEach(function (td) {
        var col = td.dataset.total, sum = 0, ok = true;
        rows.forEach(function (r) { if (r !== total) { var v = cellValue(r, col); if (isNaN(v)) ok = false; else sum += v; } });
        td.dataset.value = ok ? String(sum) : "";
        td.textContent = ok ? format(sum, 4) : "—";
      });
    }
    rows.forEach(function (r) {
      r.querySelectorAll("[data-computed]").forEach(function (td) {
        var top = cellValue(r, td.dataset.numerator), bottom = cellValue(r, td.dataset.denominator);
        var base = td.dataset.base ? cellValue(r, td.dataset.base) : 0;
        var ok = isFinite(top) && isFinite(base) && isFinite(bottom) && bottom !== 0;
        td.textContent = ok ? (100 * (top - base) / bottom).toFixed(1) + "%" : "—";
      });
    });
  }
  // Paste a block copied from Excel: tab-separated columns, newline-separated rows, from the focused cell.
  grid.addEventListener("paste", function (event) {
    var start = event.target;
    if (start.tagName !== "INPUT") return;
    var text = (event.clipboardData || window.clipboardData).getData("text");
    if (text.indexOf("\t") < 0 && text.indexOf("\n") < 0) return;
    event.preventDefault();
    var lines = text.replace(/\r/g, "").replace(/\n$/, "").split("\n");
    var inputs = function (tr) { return Array.prototype.slice.call(tr.querySelectorAll("input")); };
    var tr = start.closest("tr"), col = inputs(tr).indexOf(start);
    lines.forEach(function (line) {
      while (tr && inputs(tr).length === 0) tr = tr.nextElementSibling;
      if (!tr) return;
      line.split("\t").forEach(function (value, i) { var cell = inputs(tr)[col + i]; if (cell) cell.value = value.trim(); });
      tr = tr.nextElementSibling;
    });
    recompute();
  });
  // Enter / arrow keys move within a column, as in a spreadsheet.
  grid.addEventListener("keydown", function (event) {
    var input = event.target;
    if (input.tagName !== "INPUT" || ["Enter", "ArrowDown", "ArrowUp"].indexOf(event.key) < 0) return;
    var step = event.key === "ArrowUp" ? "previousElementSibling" : "nextElementSibling";
    var tr = input.closest("tr")[step];
    while (tr) {
      var next = tr.querySelector('input[data-col="' + input.dataset.col + '"]');
      if (next) { event.preventDefault(); next.focus(); next.select(); return; }
      tr = tr[step];
    }
    if (event.key === "Enter") event.preventDefault();
  });
  grid.addEventListener("input", recompute);
  recompute();
})();
