/* The four-eyes screen, keyboard first. Each item is blurred; "r" reveals it
   one step further (greyscale, then colour) through the review screen's
   reveal endpoint, counted and audited; moving on blurs it again. Nothing is
   chosen for the confirmer: Enter sends a verdict only once one is chosen,
   else it moves the focus to the choice. Keys: see the "?" help. */
(function () {
  "use strict";
  var root = document.getElementById("confirm");
  if (!root) { return; }
  var csrf = root.dataset.csrf;
  var statusBox = document.getElementById("ws-status");
  var help = document.getElementById("help");
  var bulk = document.getElementById("bulk");
  var selected = new Set();
  var currentEl = null;
  var VERDICTS = {"1": "baseline", "2": "national", "4": "not_illegal"};

  function cards() { return Array.prototype.slice.call(root.querySelectorAll("article.confirm-item")); }

  function say(text, isError) {
    statusBox.textContent = "";
    var span = document.createElement("span");
    span.className = isError ? "error" : "ok";
    span.textContent = text;
    statusBox.appendChild(span);
  }

  function image(card) { return card && card.dataset.code ? document.getElementById("img-" + card.dataset.code) : null; }

  function conceal(card) {
    var img = image(card);
    if (img && img.dataset.step !== "blurred") {
      img.src = img.dataset.thumb;
      img.dataset.step = "blurred";
    }
  }

  function show(card) {
    if (!card) { return; }
    if (currentEl && currentEl !== card) { conceal(currentEl); currentEl.classList.remove("current"); }
    currentEl = card;
    card.classList.add("current");
    card.focus({preventScroll: true});
    card.scrollIntoView({block: "nearest"});
  }

  function move(step) {
    var list = cards();
    if (!list.length) { return; }
    var i = list.indexOf(currentEl);
    show(list[Math.max(0, Math.min(list.length - 1, i + step))]);
  }

  function reveal(card) {
    var img = image(card);
    if (!img || !card.dataset.revealUrl) { say("Nothing to reveal here.", true); return; }
    var step = img.dataset.step === "blurred" ? "grey" : "colour";
    htmx.ajax("POST", card.dataset.revealUrl, {
      target: "#ws-status", swap: "none", values: {step: step}, headers: {"X-CSRFToken": csrf}
    });
  }

  function decideForm(card) { return card ? card.querySelector("form.decide") : null; }

  function choose(card, verdict) {
    var form = decideForm(card);
    if (!form) { say("You cannot decide this one.", true); return; }
    form.querySelector("select[name=verdict]").value = verdict;
  }

  function send(card) {
    var form = decideForm(card);
    if (!form) { say("You cannot decide this one.", true); return; }
    var select = form.querySelector("select[name=verdict]");
    if (!select.value) {
      say("Choose a verdict first (1, 2 or 4).", true);
      select.focus();
      return;
    }
    form.submit();
  }

  function agree(card) {
    var form = card ? card.querySelector("form.agree") : null;
    if (!form) { say("Confirmation is blind here: give your own verdict (1, 2, 4, then Enter).", true); return; }
    form.submit();
  }

  function toggle(card) {
    if (!card || card.dataset.kind !== "item" || !decideForm(card) || card.classList.contains("disputed")) {
      say("Only items waiting for your confirmation can be selected.", true);
      return;
    }
    var code = card.dataset.code;
    if (selected.has(code)) { selected.delete(code); card.classList.remove("selected"); }
    else { selected.add(code); card.classList.add("selected"); }
    if (!bulk) { return; }
    bulk.querySelectorAll("input[name=item]").forEach(function (el) { el.remove(); });
    selected.forEach(function (value) {
      var input = document.createElement("input");
      input.type = "hidden"; input.name = "item"; input.value = value;
      bulk.appendChild(input);
    });
    document.getElementById("bulk-count").textContent = String(selected.size);
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var tag = ev.target && ev.target.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") {
      if (ev.key === "Escape") { ev.target.blur(); }
      return;
    }
    if (help && help.open) { return; }
    var card = currentEl;
    var handled = true;
    if (ev.key === "j") { move(1); }
    else if (ev.key === "k") { move(-1); }
    else if (ev.key === "r") { reveal(card); }
    else if (VERDICTS[ev.key]) { choose(card, VERDICTS[ev.key]); }
    else if (ev.key === "Enter") { send(card); }
    else if (ev.key === "y") { agree(card); }
    else if (ev.key === "x") { toggle(card); }
    else if (ev.key === "?") { help.showModal(); }
    else { handled = false; }
    if (handled) { ev.preventDefault(); }
  });

  root.addEventListener("click", function (ev) {
    var button = ev.target.closest("button[data-action=reveal]");
    if (button) { var card = button.closest("article"); show(card); reveal(card); return; }
    var article = ev.target.closest("article.confirm-item");
    if (article && !ev.target.closest("form")) { show(article); }
  });

  // A refusal (400, 409: the daily cap, say) still carries the message to show.
  document.body.addEventListener("htmx:beforeSwap", function (ev) {
    var code = ev.detail.xhr.status;
    if (code === 400 || code === 409 || code === 404) { ev.detail.shouldSwap = true; ev.detail.isError = false; }
  });

  show(cards()[0]);
}());
