/* Offline search over window.IONTO_SEARCH (search_index.js): every word of
   the query must occur in the id, title, kind or text of an entry. */
(function () {
  "use strict";
  var MAX = 50;
  function entries() { return window.IONTO_SEARCH || []; }
  function find(query) {
    var words = query.toLowerCase().split(/\s+/).filter(function (w) { return w; });
    if (!words.length) { return []; }
    var exact = [], rest = [];
    entries().forEach(function (e) {
      var hay = (e.i + " " + e.t + " " + e.k + " " + e.x).toLowerCase();
      if (words.every(function (w) { return hay.indexOf(w) >= 0; })) {
        (e.i.toLowerCase() === query.trim().toLowerCase() ? exact : rest).push(e);
      }
    });
    return exact.concat(rest);
  }
  function render(list, hits, limit) {
    while (hits.firstChild) { hits.removeChild(hits.firstChild); }
    list.slice(0, limit).forEach(function (e) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = e.u;
      a.textContent = e.i;
      li.appendChild(a);
      li.appendChild(document.createTextNode(" " + e.t + " (" + e.k + ")"));
      hits.appendChild(li);
    });
  }
  function init() {
    var q = document.getElementById("q"), hits = document.getElementById("hits");
    if (q && hits) {
      q.addEventListener("input", function () { render(find(q.value), hits, MAX); });
      q.addEventListener("keydown", function (ev) {
        if (ev.key === "Escape") { q.value = ""; render([], hits, 0); }
      });
    }
    var results = document.getElementById("results");
    if (results) {
      var query = new URLSearchParams(window.location.search).get("q") || "";
      var page = document.getElementById("q-page");
      if (page) { page.value = query; }
      var found = find(query);
      render(found, results, 500);
      var count = document.getElementById("result-count");
      if (count && query) {
        count.textContent = found.length + " result(s) for \u201c" + query + "\u201d" +
          (found.length > 500 ? " (first 500 shown)" : "");
      }
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
