/* The review screen, keyboard first. Every action is one POST through htmx;
   the answer swaps in the changed items' fragments (hx-swap-oob), so a
   revealed picture stays until the analyst moves on. Keys: see the "?" help. */
(function () {
  "use strict";
  var root = document.getElementById("review");
  if (!root) { return; }
  var canWork = root.dataset.canWork === "1";
  var csrf = root.dataset.csrf;
  var statusBox = document.getElementById("ws-status");
  var help = document.getElementById("help");
  var known = document.getElementById("known");
  var selected = new Set();
  var currentEl = null;

  var VERDICTS = {"1": "baseline", "2": "national", "4": "not_illegal", "o": "second_opinion", "n": "not_assessable"};
  var AGES = {"i": "infant", "p": "prepubescent", "a": "pubescent"};
  var GENDERS = {"f": "female", "m": "male", "g": "both"};
  var FLAGS = {"v": "is_virtual", "s": "is_self_generated", "c": "is_child_modelling", "$": "is_commercial"};

  function cards() {
    return Array.prototype.filter.call(root.querySelectorAll("article.item"), function (el) {
      return el.getClientRects().length > 0;
    });
  }

  function say(text, isError) {
    statusBox.textContent = "";
    var span = document.createElement("span");
    span.className = isError ? "error" : "ok";
    span.textContent = text;
    statusBox.appendChild(span);
  }

  function currentCard() {
    var list = cards();
    if (!list.length) { return null; }
    if (list.indexOf(currentEl) < 0) { currentEl = list[0]; }
    return currentEl;
  }

  function conceal(card) {
    var img = card && card.querySelector("img.thumb");
    if (img && img.dataset.step !== "blurred") {
      img.src = img.dataset.thumb;
      img.dataset.step = "blurred";
      img.alt = "Blurred preview";
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
    var index = list.indexOf(currentCard()) + step;
    show(list[Math.max(0, Math.min(index, list.length - 1))]);
  }

  function post(url, values) {
    return htmx.ajax("POST", url, {
      target: "#ws-status", swap: "none", values: values, headers: {"X-CSRFToken": csrf}
    });
  }

  function targets() {
    if (selected.size) { return Array.from(selected); }
    var card = currentCard();
    return card ? [card.dataset.code] : [];
  }

  function classify(values) {
    var codes = targets();
    if (!codes.length) { say("There is no item to classify.", true); return; }
    values.items = codes.join(",");
    post(root.dataset.classifyUrl, values);
  }

  function toggleFlag(flag) {
    var card = currentCard();
    if (!card) { return; }
    var on = card.querySelector(".cls").dataset[flag] === "1";
    var values = {};
    values[flag] = on ? "0" : "1";
    classify(values);
  }

  function toggleSelect() {
    var card = currentCard();
    if (!card) { return; }
    var code = card.dataset.code;
    if (selected.has(code)) { selected.delete(code); card.classList.remove("selected"); }
    else { selected.add(code); card.classList.add("selected"); }
    document.getElementById("selection-count").textContent = String(selected.size);
    say(selected.size + " selected");
  }

  function clearSelection() {
    selected.clear();
    root.querySelectorAll("article.item.selected").forEach(function (el) { el.classList.remove("selected"); });
    document.getElementById("selection-count").textContent = "0";
  }

  function reveal() {
    var card = currentCard();
    if (!card) { return; }
    var img = card.querySelector("img.thumb");
    var step = img.dataset.step === "blurred" ? "grey" : (img.dataset.step === "grey" ? "colour" : "");
    if (!step) { say("This item is already shown in colour."); return; }
    post(root.dataset.revealUrl.replace("CODE", encodeURIComponent(card.dataset.code)), {step: step});
  }

  function toggleKnown() {
    if (!known) { return; }
    known.open = !known.open;
  }

  function finish() {
    var verdict = document.getElementById("page-verdict");
    var memo = document.getElementById("memo");
    var values = {memo: memo ? memo.value : ""};
    if (verdict) { values.page_verdict = verdict.value; }
    post(root.dataset.finishUrl, values);
  }

  function saveSiteType() {
    post(root.dataset.siteUrl, {
      site_type: document.getElementById("site-type").value,
      domain_dedicated: document.getElementById("domain-dedicated").checked ? "1" : "0"
    });
  }

  function handle(key) {
    switch (key) {
      case "j": move(1); return true;
      case "k": move(-1); return true;
      case "?": help.showModal(); return true;
      case "Escape": clearSelection(); say("Selection cleared."); return true;
      case "e": toggleKnown(); return true;
    }
    if (!canWork) { return false; }
    if (VERDICTS[key]) { classify({verdict: VERDICTS[key]}); return true; }
    if (AGES[key]) { classify({age_group: AGES[key]}); return true; }
    if (GENDERS[key]) { classify({gender: GENDERS[key]}); return true; }
    if (FLAGS[key]) { toggleFlag(FLAGS[key]); return true; }
    switch (key) {
      case "x": toggleSelect(); return true;
      case "r": reveal(); return true;
      case "u": post(root.dataset.undoUrl, {}); return true;
      case "Enter": finish(); return true;
      case "t": document.getElementById("site-type").focus(); return true;
    }
    return false;
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.isComposing) { return; }
    if (help.open) {
      if (ev.key === "Escape" || ev.key === "?") { ev.preventDefault(); help.close(); }
      return;
    }
    var tag = ev.target.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") {
      if (ev.key === "Escape") { ev.target.blur(); show(currentCard()); ev.preventDefault(); }
      return;
    }
    // Buttons, links and summaries keep their own Enter and Space.
    if ((tag === "BUTTON" || tag === "A" || tag === "SUMMARY") && (ev.key === "Enter" || ev.key === " ")) {
      return;
    }
    if (handle(ev.key)) { ev.preventDefault(); }
  });

  // Mouse: the same actions on the item that was clicked.
  root.addEventListener("click", function (ev) {
    var card = ev.target.closest("article.item");
    if (!card) { return; }
    if (card !== currentEl) { show(card); }
    var button = ev.target.closest("button");
    if (!button) { return; }
    if (button.dataset.action === "reveal") { reveal(); }
    else if (button.dataset.field === "verdict") { classify({verdict: button.dataset.value}); }
  });
  root.addEventListener("change", function (ev) {
    var field = ev.target.dataset.field;
    if (ev.target.id === "site-type" || ev.target.id === "domain-dedicated") { saveSiteType(); return; }
    if (!field) { return; }
    var card = ev.target.closest("article.item");
    if (card) { show(card); }
    var values = {};
    values[field] = ev.target.type === "checkbox" ? (ev.target.checked ? "1" : "0") : ev.target.value;
    classify(values);
  });
  var finishForm = document.getElementById("finish-form");
  if (finishForm) {
    finishForm.addEventListener("submit", function (ev) { ev.preventDefault(); finish(); });
  }
  if (known) {
    known.addEventListener("toggle", function () {
      if (known.open) {
        known.querySelectorAll("img[data-src]").forEach(function (img) {
          img.src = img.dataset.src;
          img.removeAttribute("data-src");
        });
      } else if (currentEl && known.contains(currentEl)) {
        conceal(currentEl);
        show(cards()[0]);
      }
    });
  }
  // A refusal (409, 400) still carries the message to show.
  document.body.addEventListener("htmx:beforeSwap", function (ev) {
    var code = ev.detail.xhr.status;
    if (code === 400 || code === 409) { ev.detail.shouldSwap = true; ev.detail.isError = false; }
  });
  document.body.addEventListener("htmx:sendError", function () {
    say("Not saved: the server cannot be reached.", true);
  });

  show(cards()[0]);
}());
