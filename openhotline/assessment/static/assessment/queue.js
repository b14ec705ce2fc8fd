/* The queue, keyboard first: j/k move between URLs, Enter opens, n takes the next, / searches, ? helps. */
(function () {
  "use strict";
  var table = document.getElementById("queue");
  if (!table) { return; }
  var rows = Array.prototype.slice.call(table.querySelectorAll("tr.qrow"));
  var help = document.getElementById("help");
  var index = -1;

  function show(i) {
    if (!rows.length) { return; }
    if (index >= 0) { rows[index].classList.remove("current"); }
    index = Math.max(0, Math.min(i, rows.length - 1));
    rows[index].classList.add("current");
    rows[index].querySelector("a.qlink").focus();
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    if (help.open) {
      if (ev.key === "Escape" || ev.key === "?") { ev.preventDefault(); help.close(); }
      return;
    }
    var tag = ev.target.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") { return; }
    if (ev.key === "j") { show(index + 1); ev.preventDefault(); }
    else if (ev.key === "k") { show(index - 1); ev.preventDefault(); }
    else if (ev.key === "n") { document.getElementById("take-next").click(); ev.preventDefault(); }
    else if (ev.key === "?") { help.showModal(); ev.preventDefault(); }
    else if (ev.key === "/") { document.getElementById("q").focus(); ev.preventDefault(); }
  });
}());
