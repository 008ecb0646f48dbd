/* Follows a long job — a bulk import, a refresh of the indicators, the evaluation's report ZIP, a bulletin —
 * until it ends. The page's #job box carries its status URL; every kind answers the same JSON (portal/jobs.py
 * status_json: status, status_label, finished, percent, processed, total, error, and a kind's extras). With
 * data-reload-when-finished the page is reloaded once the job is over (the server renders its result);
 * otherwise the download link or the error is revealed in place. */
(function poll() {
  var box = document.getElementById("job");
  if (!box) return;
  function show(id, value) {
    var el = document.getElementById(id);
    if (el && value !== undefined) el.textContent = value;
  }
  fetch(box.dataset.statusUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (s) {
    show("job-status", s.status_label);
    show("job-count", " · " + s.processed + "/" + s.total);
    var count = document.getElementById("job-count");
    if (count) count.hidden = !s.total;
    show("job-stored", s.stored);
    show("job-rejected", s.rejected);
    show("job-skipped", s.skipped);
    var bar = document.getElementById("job-bar");
    if (bar) { bar.value = s.percent; bar.textContent = s.percent + "%"; }
    if (!s.finished) { setTimeout(poll, 1000); return; }
    if (box.hasAttribute("data-reload-when-finished")) { window.location.reload(); return; }
    var download = document.getElementById("job-download");
    if (download && s.status === "done") download.hidden = false;
    var error = document.getElementById("job-error");
    if (error && s.error) { error.textContent = s.error; error.hidden = false; }
  }).catch(function () { setTimeout(poll, 3000); });
})();
