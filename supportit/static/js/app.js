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
  function ask(url) {
    return fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
  }
  function refresh(panel, url) {
    return ask(url)
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

  // Queue: each saved view's count comes once the page is shown (a query per view).
  var savedViews = document.querySelector("[data-counts-url]");
  if (savedViews && savedViews.querySelector("[data-saved-count]")) {
    ask(savedViews.dataset.countsUrl)
      .then(function (response) { return response.ok ? response.json() : {}; })
      .then(function (counts) {
        savedViews.querySelectorAll("[data-saved-count]").forEach(function (badge) {
          var label = counts[badge.dataset.savedCount];
          if (label !== undefined) { badge.textContent = label; badge.hidden = false; }
        });
      })
      .catch(function () {});
  }
  // Ticket page: the panels around the conversation come once the page is shown (the link in
  // the placeholder does the same without JavaScript, by reloading the page with them).
  var context = document.getElementById("ticket-context");
  if (context && context.dataset.contextUrl) {
    refresh(context, context.dataset.contextUrl).then(function () {
      // The canned replies arrive with them; their place is above the ticket's details.
      var canned = context.querySelector("#canned-panel");
      var slot = document.getElementById("canned-slot");
      if (canned && slot) { slot.replaceWith(canned); }
    });
  }
  // Its history, when the agent opens it.
  var history = document.querySelector("details[data-history-url]");
  if (history) {
    history.addEventListener("toggle", function () {
      if (!history.open || history.dataset.loaded) { return; }
      history.dataset.loaded = "1";
      refresh(history.querySelector("[data-history]"), history.dataset.historyUrl);
    });
  }
  // Search articles in place (the form may arrive with the panels: listened to from the
  // document), and insert one into the reply in one click.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-kb-search]");
    if (!form) { return; }
    event.preventDefault();
    var query = form.querySelector("input[name=kb]").value;
    var results = document.getElementById("kb-results");
    refresh(results, form.dataset.kbSearch + "?" + new URLSearchParams({ q: query }));
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
  // (the link's own address does the same without JavaScript, by reloading the page). They
  // arrive after the page: listened to from the document.
  document.addEventListener("input", function (event) {
    var filter = event.target.closest("[data-canned-filter]");
    if (!filter) { return; }
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    document.querySelectorAll("[data-canned-title]").forEach(function (item) {
      var title = item.dataset.cannedTitle;
      item.hidden = !words.every(function (word) { return title.indexOf(word) !== -1; });
    });
  });
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
    var item = link.closest("details");
    if (item) { item.open = false; }
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
  // Collision warnings: the open ticket beats every few seconds, saying whether a draft is in
  // progress, and shows who else is on the ticket and what was said meanwhile. The draft is
  // kept in the tab across reloads, so reading a colleague's answer first costs nothing.
  var presenceBox = document.getElementById("presence");
  var replyForm = document.getElementById("reply-form");
  if (presenceBox && replyForm) {
    var draft = replyForm.querySelector("textarea[name=body]");
    var token = replyForm.querySelector("input[name=csrf_token]");
    var key = presenceBox.dataset.draftKey;
    var store = null;
    try { store = window.sessionStorage; } catch (error) { store = null; }
    if (store && !draft.value && store.getItem(key)) { draft.value = store.getItem(key); }
    // A draft the server gave back (a refused send) is kept as if typed here.
    if (store && draft.value) { store.setItem(key, draft.value); }
    var payload = function (extra) {
      var data = new FormData();
      if (token) { data.append("csrf_token", token.value); }
      data.append("since", presenceBox.dataset.since);
      data.append("writing", draft.value.trim() ? "1" : "0");
      if (extra) { data.append(extra, "1"); }
      return data;
    };
    var beat = function () {
      fetch(presenceBox.dataset.presenceUrl, {
        method: "POST", body: payload(), credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" }
      })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html !== null) { presenceBox.innerHTML = html; } })
        .catch(function () {});
    };
    var seconds = Math.max(parseInt(presenceBox.dataset.beatSeconds, 10) || 10, 1);
    beat();  // colleagues see this agent arrive at once
    setInterval(beat, seconds * 1000);
    var writing = !!draft.value.trim();
    draft.addEventListener("input", function () {
      if (store) { store.setItem(key, draft.value); }
      var now = !!draft.value.trim();
      if (now !== writing) { writing = now; beat(); }  // colleagues learn it at once
    });
    document.addEventListener("submit", function (event) {
      // Sent (or refused with the draft shown again by the server): the stored copy is done.
      if (store && event.target.closest("#reply, #canned-panel") && !event.defaultPrevented) {
        store.removeItem(key);
      }
    });
    window.addEventListener("pagehide", function () {
      if (navigator.sendBeacon) { navigator.sendBeacon(presenceBox.dataset.presenceUrl, payload("leaving")); }
    });
  }
  // The satisfaction link clicked in a mail: the score is sent at once (a person's one click);
  // link scanners run no script, so they never rate a ticket.
  var autosubmit = document.querySelector("form[data-autosubmit]");
  if (autosubmit) { autosubmit.submit(); }
  // Keyboard shortcuts for agents (the help: "?"). Keys typed into a field are the field's.
  var QUEUE_KEY = "supportit-queue";
  var queueList = document.querySelector("[data-queue-list]");
  var ticketForm = document.getElementById("reply-form");
  var help = document.getElementById("shortcuts");
  var session = null;
  try { session = window.sessionStorage; } catch (error) { session = null; }
  var rows = queueList ? Array.prototype.slice.call(queueList.querySelectorAll("tbody tr[data-href]")) : [];
  var current = -1;
  if (queueList && session) {
    // The ticket page's j / k walk this list: the queue remembers its order and address.
    session.setItem(QUEUE_KEY, JSON.stringify({
      url: window.location.pathname + window.location.search,
      refs: rows.map(function (row) { return row.dataset.reference; }),
      hrefs: rows.map(function (row) { return row.dataset.href; })
    }));
  }
  var select = function (index) {
    if (!rows.length) { return; }
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, i) { row.classList.toggle("table-active", i === current); });
    rows[current].scrollIntoView({ block: "nearest" });
    rows[current].querySelector("a").focus({ preventScroll: true });
  };
  var walk = function (step) {
    var stored = session && JSON.parse(session.getItem(QUEUE_KEY) || "null");
    if (!stored) { return; }
    var at = stored.refs.indexOf(ticketForm.dataset.reference);
    var next = at + step;
    window.location.href = at !== -1 && next >= 0 && next < stored.hrefs.length ? stored.hrefs[next] : stored.url;
  };
  var typing = function (target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  };
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && ticketForm &&
        event.target.closest("#reply-form textarea")) {
      event.preventDefault();
      ticketForm.requestSubmit();
      return;
    }
    if (event.key === "Escape" && typing(event.target)) { event.target.blur(); return; }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var handled = true;
    if (event.key === "?" && help) {
      help.showModal();
    } else if (queueList && (event.key === "j" || event.key === "k")) {
      select(current + (event.key === "j" ? 1 : -1));
    } else if (queueList && (event.key === "o" || event.key === "Enter") && current !== -1) {
      window.location.href = rows[current].dataset.href;
    } else if (queueList && event.key === "x" && current !== -1) {
      var box = rows[current].querySelector(".ticket-select");
      box.checked = !box.checked;
    } else if (event.key === "/" && document.getElementById("q")) {
      document.getElementById("q").focus();
    } else if (ticketForm && (event.key === "r" || event.key === "n")) {
      var kind = ticketForm.querySelector("input[name=kind][value=" + (event.key === "r" ? "reply" : "note") + "]");
      if (kind) { kind.checked = true; }
      var body = ticketForm.querySelector("textarea[name=body]");
      body.scrollIntoView({ block: "center" });
      body.focus();
    } else if (ticketForm && event.key === "a" && document.querySelector("form[data-shortcut=take]")) {
      document.querySelector("form[data-shortcut=take]").requestSubmit();
    } else if (ticketForm && event.key === "c" && document.querySelector("[data-canned-filter]")) {
      document.querySelector("[data-canned-filter]").focus();
    } else if (ticketForm && (event.key === "j" || event.key === "k")) {
      walk(event.key === "j" ? 1 : -1);
    } else if (ticketForm && event.key === "u") {
      var back = session && JSON.parse(session.getItem(QUEUE_KEY) || "null");
      window.location.href = back ? back.url : "/queue/";
    } else {
      handled = false;
    }
    if (handled) { event.preventDefault(); }
  });
})();
