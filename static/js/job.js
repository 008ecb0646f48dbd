(function poll() {
  var box = document.getElementById("job");
  fetch(box.dataset.statusUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (s) {
    document.getElementById("job-status").textContent = s.status_label;
    document.getElementById("job-count").textContent = s.processed + "/" + s.total;
    document.getElementById("job-bar").style.width = s.percent + "%";
    document.getElementById("job-stored").textContent = s.stored;
    document.getElementById("job-rejected").textContent = s.rejected;
    document.getElementById("job-skipped").textContent = s.skipped;
    if (s.status === "done" || s.status === "failed") { window.location.reload(); } else { setTimeout(poll, 1000); }
  }).catch(function () { setTimeout(poll, 3000); });
})();
