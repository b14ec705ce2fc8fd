// While a crawl runs, reload its progress panel (#crawl-progress) every 3 s from
// the URL in its data-poll attribute; the finished panel has none, which stops it.
(function () {
  "use strict";
  var timer = setInterval(function () {
    var section = document.getElementById("crawl-progress");
    if (!section || !section.dataset.poll) { clearInterval(timer); return; }
    fetch(section.dataset.poll, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html) { section.outerHTML = html; } });
  }, 3000);
})();
