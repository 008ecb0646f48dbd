/* Follows a long job (a bulk import, the evaluation's report ZIP) until it ends. The page's #job carries the
 * status URL; data-reload-when-finished reloads the page at the end (the import's result table is rendered
 * by the server), otherwise the download link or the error is revealed in place. */
(function poll() {
  var box = document.getElementById("job");
  if (!box) return;
  function show(id, value) {
    var el = document.getElementById(id);
    if (el && value !== undefined) el.textContent = value;
  }
  fetch(box.dataset.statusUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (s) {
    show("job-status", s.status_label);
    show("job-count", s.processed + "/" + s.total);
    show("job-stored", s.stored);
    show("job-rejected", s.rejected);
    show("job-skipped", s.skipped);
    var bar = document.getElementById("job-bar");
    bar.value = s.percent;
    bar.textContent = s.percent + "%";
    var finished = s.status === "done" || s.status === "failed" || s.status === "ready";
    if (finished && box.hasAttribute("data-reload-when-finished")) { window.location.reload(); return; }
    if (s.status === "done") { document.getElementById("job-download").hidden = false; return; }
    if (s.status === "failed") { var e = document.getElementById("job-error"); e.textContent = s.error; e.hidden = false; return; }
    setTimeout(poll, 1000);
  }).catch(function () { setTimeout(poll, 3000); });
})();
