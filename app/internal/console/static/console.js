// The console's pages: live subdomain availability and the signup (signup page), the live
// progress of the new store (progress page). No inline script: the Content-Security-Policy
// allows only this file.
"use strict";

function byId(id) { return document.getElementById(id); }

function signupPage(form) {
  const csrf = form.dataset.csrf;
  const sub = byId("subdomain");
  const availability = byId("availability");
  let timer = null;
  sub.addEventListener("input", () => {
    clearTimeout(timer);
    availability.textContent = "";
    availability.className = "hint";
    const name = sub.value.trim().toLowerCase();
    if (!name) return;
    timer = setTimeout(async () => {
      const resp = await fetch("/api/subdomains/" + encodeURIComponent(name));
      if (!resp.ok) return;
      const a = await resp.json();
      if (sub.value.trim().toLowerCase() !== a.subdomain) return;
      availability.textContent = a.available ? a.subdomain + " is free" : a.subdomain + ": " + a.reason;
      availability.className = "hint " + (a.available ? "ok" : "no");
    }, 250);
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    for (const p of form.querySelectorAll(".error")) p.textContent = "";
    const data = {
      company: byId("company").value,
      subdomain: sub.value,
      region: byId("region").value,
      tier: form.querySelector("input[name=tier]:checked").value,
      adminEmail: byId("adminEmail").value,
    };
    const result = byId("result");
    result.textContent = "Sending…";
    const resp = await fetch("/api/signups", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(data),
    });
    const body = await resp.json();
    if (resp.status === 202) {
      result.textContent = "We sent a link to " + body.email + ". Follow it to create your store.";
      byId("submit").disabled = true;
      return;
    }
    result.textContent = body.error || "Something went wrong.";
    for (const [field, msg] of Object.entries(body.fields || {})) {
      const p = form.querySelector('.error[data-for="' + field + '"]');
      if (p) p.textContent = msg;
    }
  });
}

function progressPage(list) {
  const token = new URLSearchParams(location.search).get("token");
  const outcome = byId("outcome");
  const source = new EventSource("/api/progress?token=" + encodeURIComponent(token));
  source.addEventListener("progress", (ev) => {
    const v = JSON.parse(ev.data);
    list.replaceChildren(...v.steps.map((s) => {
      const li = document.createElement("li");
      li.textContent = s.name;
      li.dataset.state = s.state;
      return li;
    }));
    if (v.ready) {
      source.close();
      outcome.textContent = "Your store is ready. Taking you there…";
      location.assign(v.url);
    } else if (v.failed) {
      source.close();
      outcome.textContent = "Something needs our platform team; they have been told: " + v.message;
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const form = byId("signup");
  if (form) signupPage(form);
  const steps = byId("steps");
  if (steps) progressPage(steps);
});
