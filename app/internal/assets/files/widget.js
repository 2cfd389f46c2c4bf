// Progressive enhancement of the rating form: stars to click instead of a list, and the rating
// posted to the JSON API and shown without a reload. Without this script the form posts as it is.
(function () {
  "use strict";
  var form = document.querySelector("form.rate");
  if (!form || !window.fetch) { return; }
  var select = form.querySelector("select[name=stars]");
  var list = document.getElementById("reviews");
  var status = form.querySelector(".rate-status");
  var picker = document.createElement("div");
  picker.setAttribute("role", "group");
  picker.setAttribute("aria-label", "Stars");
  var buttons = [];
  function show(n) {
    buttons.forEach(function (b, i) { b.setAttribute("aria-pressed", String(i < n)); });
  }
  for (var i = 1; i <= 5; i++) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "star-picker";
    b.textContent = "\u2605";
    b.setAttribute("aria-label", i + (i === 1 ? " star" : " stars"));
    b.dataset.stars = String(i);
    b.addEventListener("click", function (e) {
      select.value = e.currentTarget.dataset.stars;
      show(Number(select.value));
    });
    buttons.push(b);
    picker.appendChild(b);
  }
  select.parentNode.insertBefore(picker, select);
  select.hidden = true;
  show(Number(select.value));

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = {
      customer: form.elements.customer.value,
      stars: Number(select.value),
      review: form.elements.review.value
    };
    status.textContent = "Sending\u2026";
    status.className = "rate-status";
    fetch(form.dataset.api, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (res) {
      return res.json().then(function (data) { return { ok: res.ok, data: data }; });
    }).then(function (r) {
      if (!r.ok) { throw new Error(r.data.error || "the rating was not taken"); }
      var li = document.createElement("li");
      var stars = document.createElement("span");
      stars.className = "stars";
      stars.textContent = "\u2605".repeat(r.data.stars) + "\u2606".repeat(5 - r.data.stars);
      li.appendChild(stars);
      li.appendChild(document.createTextNode(" " + r.data.customer + ": " + r.data.review));
      var empty = list.querySelector("li.none");
      if (empty) { empty.remove(); }
      list.insertBefore(li, list.firstChild);
      form.reset();
      show(Number(select.value));
      status.textContent = "Thank you: your rating is in.";
    }).catch(function (err) {
      status.textContent = err.message;
      status.className = "rate-status error";
    });
  });
})();
