/* The police item page: the blurred preview is revealed step by step, greyscale
   first, then colour. Each step is a POST to the portal's reveal endpoint, which
   audits it and answers with a short-lived link for this officer only. */
(function () {
  "use strict";
  var box = document.getElementById("media");
  if (!box) { return; }
  var img = document.getElementById("preview");
  var status = document.getElementById("reveal-status");
  var grey = document.getElementById("reveal-grey");
  var colour = document.getElementById("reveal-colour");

  function reveal(step, button) {
    var body = new URLSearchParams();
    body.set("step", step);
    button.disabled = true;
    fetch(box.dataset.revealUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {"X-CSRFToken": box.dataset.csrf, "Content-Type": "application/x-www-form-urlencoded"},
      body: body.toString()
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(data.error || "refused"); }
        return data;
      });
    }).then(function (data) {
      img.src = data.url;
      img.dataset.step = data.step;
      status.textContent = (step === "grey" ? "Greyscale" : "Colour") +
        " (recorded; items revealed today: " + data.revealed_today + ").";
      if (step === "grey") { colour.disabled = false; }
    }).catch(function (error) {
      button.disabled = false;
      status.textContent = "Refused: " + error.message;
    });
  }

  grey.addEventListener("click", function () { reveal("grey", grey); });
  colour.addEventListener("click", function () { reveal("colour", colour); });
}());
