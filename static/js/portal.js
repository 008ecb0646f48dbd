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

// The language switch and selects marked data-autosubmit submit their form as soon as a choice is made
// (a <noscript> button stands in without JavaScript).
document.querySelectorAll("form.lang-switch select, select[data-autosubmit]").forEach(function (select) {
  select.addEventListener("change", function () { select.form.submit(); });
});

// A form with data-confirm="question" asks before it is sent (the policy forbids onsubmit= attributes).
document.addEventListener("submit", function (event) {
  var question = event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});
