// Warn two minutes before an idle session ends; "继续" keeps it alive, doing nothing lets it expire.
(function () {
  var body = document.body, seconds = Number(body.dataset.sessionSeconds || 0);
  if (!seconds || !body.dataset.keepalive) return;
  var warnAt = Math.max(seconds - 120, 10) * 1000, timer, banner;
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(warn, warnAt);
  }
  function warn() {
    banner = document.getElementById("session-warning");
    banner.hidden = false;
  }
  document.addEventListener("click", function (event) {
    if (event.target.id !== "session-continue") return;
    fetch(body.dataset.keepalive, {credentials: "same-origin"}).then(function (r) {
      if (r.ok) { banner.hidden = true; schedule(); } else { window.location.reload(); }
    });
  });
  schedule();
})();

// The language switch submits as soon as a language is chosen (a button stands in without JavaScript).
document.querySelectorAll("form.lang-switch select").forEach(function (select) {
  select.addEventListener("change", function () { select.form.submit(); });
});
