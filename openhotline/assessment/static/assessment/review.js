/* The review screen, keyboard first. Every action is one POST through htmx;
   the answer swaps in the changed items' fragments (hx-swap-oob), so a
   revealed picture stays until the analyst moves on. Keys: see the "?" help.

   Nothing is chosen for the analyst: an item, the page and the site type
   start without a value, and Enter with a choice missing moves the focus to
   it and sends nothing. After a verdict the focus moves on to the next item
   without one. Requests go one after the other (a key pressed while one is
   under way waits for it), so none is dropped and they apply in order. */
(function () {
  "use strict";
  var root = document.getElementById("review");
  if (!root) { return; }
  var canWork = root.dataset.canWork === "1";
  var holdReveal = root.dataset.holdReveal === "1";
  var csrf = root.dataset.csrf;
  var statusBox = document.getElementById("ws-status");
  var help = document.getElementById("help");
  var enlarged = document.getElementById("enlarged");
  var known = document.getElementById("known");
  var selected = new Set();
  var currentEl = null;
  var queue = Promise.resolve();
  var refused = false; // the last request was refused (400, 409): its message stays
  var holding = false;

  var VERDICTS = {"1": "baseline", "2": "national", "4": "not_illegal", "o": "second_opinion", "n": "not_assessable"};
  var AGES = {"i": "infant", "p": "prepubescent", "a": "pubescent"};
  var GENDERS = {"f": "female", "m": "male", "g": "both"};
  var FLAGS = {"v": "is_virtual", "s": "is_self_generated", "c": "is_child_modelling", "$": "is_commercial"};
  var LABELS = {
    infant: "infant", prepubescent: "pre-pubescent", pubescent: "pubescent",
    female: "female", male: "male", both: "both",
    is_virtual: "virtual / AI", is_self_generated: "self-generated",
    is_child_modelling: "child modelling", is_commercial: "commercial"
  };

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

  function verdictOf(card) {
    var cls = card && card.querySelector(".cls");
    return cls ? cls.dataset.verdict : "";
  }

  function conceal(card) {
    var img = card && card.querySelector("img.thumb");
    if (img && img.dataset.step !== "blurred") {
      img.src = img.dataset.thumb;
      img.dataset.step = "blurred";
      img.alt = "Blurred preview";
    }
    closeEnlarged();
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

  /* The next item without a verdict after `card` (wrapping round), or null. */
  function nextUnclassified(card) {
    var list = cards();
    var start = list.indexOf(card);
    for (var n = 1; n <= list.length; n++) {
      var candidate = list[(start + n) % list.length];
      if (!verdictOf(candidate)) { return candidate; }
    }
    return null;
  }

  function post(url, values) {
    var send = function () {
      refused = false;
      return htmx.ajax("POST", url, {
        target: "#ws-status", swap: "none", values: values, headers: {"X-CSRFToken": csrf}
      });
    };
    queue = queue.then(send, send);
    return queue;
  }

  function targets() {
    if (selected.size) {
      return cards().filter(function (el) { return selected.has(el.dataset.code); });
    }
    var card = currentCard();
    return card ? [card] : [];
  }

  /* Attributes chosen before an item's verdict wait on the card and go with it. */
  function pendingOf(card) {
    return card.dataset.pending ? JSON.parse(card.dataset.pending) : {};
  }

  function setPending(card, values) {
    card.dataset.pending = JSON.stringify(values);
    var box = card.querySelector(".pending");
    if (box) {
      box.textContent = Object.keys(values).filter(function (key) { return values[key] !== "0"; })
        .map(function (key) { return LABELS[values[key]] || LABELS[key] || values[key]; }).join(", ");
    }
  }

  function classify(values) {
    var list = targets();
    if (!list.length) { say("There is no item to classify.", true); return; }
    if (!values.verdict) {
      var open = list.filter(function (card) { return !verdictOf(card); });
      if (open.length) {
        open.forEach(function (card) {
          var pending = pendingOf(card);
          Object.keys(values).forEach(function (key) { pending[key] = values[key]; });
          setPending(card, pending);
        });
        say("Kept until the item's verdict (1, 2, 4, o, n).");
        list = list.filter(function (card) { return verdictOf(card); });
        if (!list.length) { return; }
      }
      send(list, values);
      return;
    }
    // A verdict: one request per set of waiting attributes (usually one in all).
    var groups = {};
    list.forEach(function (card) {
      var key = verdictOf(card) ? "{}" : (card.dataset.pending || "{}");
      (groups[key] = groups[key] || []).push(card);
    });
    var origin = currentCard();
    var last = null;
    Object.keys(groups).forEach(function (key) {
      var merged = JSON.parse(key);
      Object.keys(values).forEach(function (name) { merged[name] = values[name]; });
      last = send(groups[key], merged);
    });
    last.then(function () { advanceFrom(origin, list); });
  }

  function send(list, values) {
    var body = {};
    Object.keys(values).forEach(function (key) { body[key] = values[key]; });
    body.items = list.map(function (card) { return card.dataset.code; }).join(",");
    return post(root.dataset.classifyUrl, body);
  }

  /* After a verdict is saved: clear what waited, then on to the next item without one. */
  function advanceFrom(origin, list) {
    var saved = list.filter(function (card) {
      var fresh = document.getElementById(card.id);
      return fresh && verdictOf(fresh);
    });
    if (refused || saved.length !== list.length) { return; } // refused: stay to read why
    saved.forEach(function (card) { delete card.dataset.pending; });
    if (selected.size) { clearSelection(); }
    if (currentEl !== origin) { return; } // the analyst moved on meanwhile
    var next = nextUnclassified(origin);
    if (next) { show(next); }
    else { say("Every item has a verdict. Enter finishes the URL."); }
  }

  function toggleFlag(flag) {
    var card = currentCard();
    if (!card) { return; }
    var on = verdictOf(card) ? card.querySelector(".cls").dataset[flag] === "1" : pendingOf(card)[flag] === "1";
    var values = {};
    values[flag] = on ? "0" : "1";
    classify(values);
  }

  function updateSelectionCount() {
    document.getElementById("selection-count").textContent = String(selected.size);
  }

  function toggleSelect() {
    var card = currentCard();
    if (!card) { return; }
    var code = card.dataset.code;
    if (selected.has(code)) { selected.delete(code); card.classList.remove("selected"); }
    else { selected.add(code); card.classList.add("selected"); }
    updateSelectionCount();
    say(selected.size + " selected");
  }

  function selectAll() {
    cards().forEach(function (card) { selected.add(card.dataset.code); card.classList.add("selected"); });
    updateSelectionCount();
    say(selected.size + " selected: keys now apply to all of them. Esc clears.");
  }

  function clearSelection() {
    selected.clear();
    root.querySelectorAll("article.item.selected").forEach(function (el) { el.classList.remove("selected"); });
    updateSelectionCount();
  }

  /* The next step to reveal: greyscale first, then colour. With hold-to-reveal the
     picture is hidden between holds, so the card remembers the step it reached. */
  function nextStep(card) {
    var img = card.querySelector("img.thumb");
    var reached = img.dataset.step !== "blurred" ? img.dataset.step : (card.dataset.reached || "");
    if (!reached) { return "grey"; }
    return holdReveal ? "colour" : (reached === "grey" ? "colour" : "");
  }

  function reveal() {
    var card = currentCard();
    if (!card) { return; }
    var step = nextStep(card);
    if (!step) { say("This item is already shown in colour."); return; }
    post(root.dataset.revealUrl.replace("CODE", encodeURIComponent(card.dataset.code)), {step: step})
      .then(function () {
        var img = card.querySelector("img.thumb");
        if (img.dataset.step !== "blurred") { card.dataset.reached = img.dataset.step; }
        if (holdReveal && !holding) { conceal(card); }
      });
  }

  function release() {
    holding = false;
    if (holdReveal) { conceal(currentCard()); }
  }

  function enlarge() {
    var card = currentCard();
    if (!card) { return; }
    var step = card.querySelector("img.thumb").dataset.step;
    if (step === "blurred") {
      say(holdReveal ? "Hold r, then press z to enlarge." : "Reveal the item first (r).", true);
      return;
    }
    post(root.dataset.enlargeUrl.replace("CODE", encodeURIComponent(card.dataset.code)), {step: step})
      .then(function () {
        var img = document.getElementById("enlarged-img");
        if (!img || img.dataset.code !== card.dataset.code || currentEl !== card) { return; }
        if (holdReveal && !holding) { closeEnlarged(); return; }
        if (!enlarged.open) { enlarged.showModal(); }
      });
  }

  function closeEnlarged() {
    if (!enlarged) { return; }
    if (enlarged.open) { enlarged.close(); }
    var body = document.getElementById("enlarged-body");
    if (body) { body.textContent = ""; } // the picture leaves the page, not just the view
  }

  function toggleKnown() {
    if (!known) { return; }
    known.open = !known.open;
  }

  /* The first choice still missing before the URL can be finished, or null. */
  function missingChoice() {
    var open = root.querySelectorAll("#grid-new article.item, #grid-known article.item");
    for (var i = 0; i < open.length; i++) {
      if (!verdictOf(open[i])) { return {card: open[i], why: "This item has no verdict yet (1, 2, 4, o or n)."}; }
    }
    var verdict = document.getElementById("page-verdict");
    if (verdict && !verdict.value) { return {field: verdict, why: "Choose the page's verdict first (arrow keys, then Enter)."}; }
    var siteType = document.getElementById("site-type");
    if (siteType && !siteType.value) { return {field: siteType, why: "Choose the site type first (arrow keys, then Enter)."}; }
    return null;
  }

  function finish() {
    var missing = missingChoice();
    if (missing) {
      if (missing.card) {
        if (known && known.contains(missing.card)) { known.open = true; }
        show(missing.card);
      } else {
        missing.field.focus();
      }
      say(missing.why, true);
      return;
    }
    var verdict = document.getElementById("page-verdict");
    var memo = document.getElementById("memo");
    var values = {memo: memo ? memo.value : ""};
    if (verdict) { values.page_verdict = verdict.value; }
    post(root.dataset.finishUrl, values);
  }

  function saveSiteType() {
    var siteType = document.getElementById("site-type");
    if (!siteType.value) { return; }
    post(root.dataset.siteUrl, {
      site_type: siteType.value,
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
      case "X": selectAll(); return true;
      case "r": holding = true; reveal(); return true;
      case "z": enlarge(); return true;
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
    if (enlarged && enlarged.open) {
      if (ev.key === "Escape" || ev.key === "z") { ev.preventDefault(); closeEnlarged(); }
      return;
    }
    if (ev.repeat && ev.key === "r") { ev.preventDefault(); return; } // held: one reveal
    var tag = ev.target.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") {
      if (ev.key === "Escape") { ev.target.blur(); show(currentCard()); ev.preventDefault(); }
      // In the page's own choices Enter goes on to finishing (or to the next missing choice).
      if (ev.key === "Enter" && (ev.target.id === "site-type" || ev.target.id === "page-verdict")) {
        ev.preventDefault();
        finish();
      }
      return;
    }
    // Buttons, links and summaries keep their own Enter and Space.
    if ((tag === "BUTTON" || tag === "A" || tag === "SUMMARY") && (ev.key === "Enter" || ev.key === " ")) {
      return;
    }
    if (handle(ev.key)) { ev.preventDefault(); }
  });
  document.addEventListener("keyup", function (ev) {
    if (ev.key === "r" || ev.key === "R") { release(); }
    if (holdReveal && ev.key === "z") { closeEnlarged(); }
  });
  // Hold-to-reveal: leaving the window also lets go.
  window.addEventListener("blur", function () { if (holding) { release(); } });
  if (enlarged) { enlarged.addEventListener("close", closeEnlarged); }

  // Mouse: the same actions on the item that was clicked.
  root.addEventListener("click", function (ev) {
    if (ev.target.id === "select-all") { selectAll(); return; }
    var card = ev.target.closest("article.item");
    if (!card) { return; }
    if (card !== currentEl) { show(card); }
    var button = ev.target.closest("button");
    if (!button) { return; }
    if (button.dataset.action === "reveal" && !holdReveal) { reveal(); }
    else if (button.dataset.action === "enlarge") { holding = true; enlarge(); }
    else if (button.dataset.field === "verdict") { classify({verdict: button.dataset.value}); }
  });
  if (holdReveal) {
    root.addEventListener("pointerdown", function (ev) {
      var button = ev.target.closest("button[data-action=reveal]");
      if (!button) { return; }
      show(button.closest("article.item"));
      holding = true;
      reveal();
    });
    ["pointerup", "pointerleave", "pointercancel"].forEach(function (name) {
      root.addEventListener(name, function (ev) {
        if (holding && ev.target.closest && ev.target.closest("button[data-action=reveal]")) { release(); }
      });
    });
  }
  root.addEventListener("change", function (ev) {
    var field = ev.target.dataset.field;
    if (ev.target.id === "site-type" || ev.target.id === "domain-dedicated") { saveSiteType(); return; }
    if (!field) { return; }
    var card = ev.target.closest("article.item");
    if (card) { show(card); }
    var values = {};
    values[field] = ev.target.type === "checkbox" ? (ev.target.checked ? "1" : "0") : ev.target.value;
    if (values[field] === "") { return; }
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
    if (code === 400 || code === 409) {
      refused = true;
      ev.detail.shouldSwap = true;
      ev.detail.isError = false;
    }
  });
  // Hold-to-reveal: a picture that arrives after the key was let go is never put in.
  document.body.addEventListener("htmx:oobBeforeSwap", function (ev) {
    var target = ev.detail.target;
    if (!holdReveal || holding || !target) { return; }
    if (target.id === "enlarged-body" || (target.id && target.id.indexOf("img-") === 0)) {
      ev.detail.shouldSwap = false;
    }
  });
  document.body.addEventListener("htmx:sendError", function () {
    say("Not saved: the server cannot be reached.", true);
  });

  show(cards()[0]);
}());
