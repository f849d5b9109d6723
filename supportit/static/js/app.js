// Small progressive enhancements; every page works without JavaScript.
(function () {
  "use strict";
  var selectAll = document.getElementById("select-all");
  if (selectAll) {
    selectAll.addEventListener("change", function () {
      document.querySelectorAll(".ticket-select").forEach(function (box) {
        box.checked = selectAll.checked;
      });
    });
  }

  function debounce(fn, wait) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, wait);
    };
  }

  // Replace a panel with the HTML fragment the server renders for it; a failed request keeps
  // what is shown (the suggestions are a help, never in the way).
  function refresh(panel, url) {
    return fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html !== null) { panel.innerHTML = html; } })
      .catch(function () {});
  }

  // New ticket: articles that may answer the question, while the merchant types it.
  var suggestions = document.getElementById("kb-suggestions");
  if (suggestions) {
    var subject = document.getElementById("subject");
    var body = document.getElementById("body");
    var last = "";
    var update = debounce(function () {
      var category = document.querySelector("input[name=category]:checked");
      var params = new URLSearchParams({
        subject: subject ? subject.value : "",
        body: body ? body.value.slice(0, 1500) : "",
        category: category ? category.value : ""
      });
      var key = params.toString();
      if (key === last) { return; }
      last = key;
      refresh(suggestions, suggestions.dataset.suggestUrl + "?" + key);
    }, 400);
    [subject, body].forEach(function (field) {
      if (field) { field.addEventListener("input", update); }
    });
    document.querySelectorAll("input[name=category]").forEach(function (radio) {
      radio.addEventListener("change", update);
    });
    // Typed before this script ran (a slow page): suggest for it now.
    if ((subject && subject.value) || (body && body.value)) { update(); }
  }

  // Ticket page: search articles in place, and insert one into the reply in one click.
  document.querySelectorAll("form[data-kb-search]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var query = form.querySelector("input[name=kb]").value;
      var results = document.getElementById("kb-results");
      refresh(results, form.dataset.kbSearch + "?" + new URLSearchParams({ q: query }));
    });
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-kb-insert]");
    if (!button) { return; }
    var target = document.getElementById(button.dataset.kbTarget);
    if (!target) { return; }
    var text = button.dataset.kbInsert;
    target.value = target.value.trim() ? target.value.replace(/\s+$/, "") + "\n\n" + text : text;
    target.focus();
    target.setSelectionRange(target.value.length, target.value.length);
  });
  // Canned replies: filter the list by title, and put one into the reply to edit before sending
  // (the link's own address does the same without JavaScript, by reloading the page).
  var cannedFilter = document.querySelector("[data-canned-filter]");
  if (cannedFilter) {
    cannedFilter.addEventListener("input", function () {
      var words = cannedFilter.value.toLowerCase().split(/\s+/).filter(Boolean);
      document.querySelectorAll("[data-canned-title]").forEach(function (item) {
        var title = item.dataset.cannedTitle;
        item.hidden = !words.every(function (word) { return title.indexOf(word) !== -1; });
      });
    });
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-canned-insert]");
    var form = document.getElementById("reply-form");
    if (!link || !form) { return; }
    event.preventDefault();
    var body = form.querySelector("textarea[name=body]");
    body.value = link.dataset.cannedBody;
    form.querySelector("input[name=canned]").value = link.dataset.cannedInsert;
    var status = form.querySelector("select[name=status]");
    if (status && link.dataset.cannedStatus) { status.value = link.dataset.cannedStatus; }
    var reply = form.querySelector("input[name=kind][value=reply]");
    if (reply) { reply.checked = true; }
    body.focus();
    body.setSelectionRange(0, 0);
    body.scrollIntoView({ block: "center" });
  });
  // A destructive button asks first.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) { event.preventDefault(); }
  });
})();
