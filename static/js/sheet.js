(function () {
  // Live ratios: numerator / denominator from the inputs (or the shown values); "—" when undefined.
  function read(code) {
    var el = document.getElementById("f-" + code);
    if (!el) return NaN;
    var raw = (el.value !== undefined ? el.value : el.textContent) || "";
    raw = raw.replace(/[，,\s亿元户%BP]/gi, "").replace(/[０-９．]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xFEE0); });
    return raw === "" || raw === "—" ? NaN : Number(raw);
  }
  function update() {
    document.querySelectorAll("[data-ratio]").forEach(function (el) {
      var parts = el.dataset.ratio.split("/"), n = read(parts[0]), d = read(parts[1]);
      el.textContent = (isFinite(n) && isFinite(d) && d !== 0) ? (100 * n / d).toFixed(1) + "%" : "—";
    });
    // A part above its whole (信用余额 > 余额, E201–E204) is shown while typing, before anything is saved.
    document.querySelectorAll("[data-part]").forEach(function (el) {
      var part = read(el.dataset.part), whole = read(el.dataset.whole);
      el.hidden = !(isFinite(part) && isFinite(whole) && part > whole);
    });
  }
  document.addEventListener("input", update);
  update();
})();
