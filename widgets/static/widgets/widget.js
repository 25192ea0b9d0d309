/* Inside a widget page: report the page's height to the embedding page (embed.js sizes the iframe),
 * and keep the walk-in list current without a reload. */
(function () {
  "use strict";

  function reportHeight() {
    if (window.parent === window) return;
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    // The height is no secret, and the embedding site is not known here: any parent may read it.
    window.parent.postMessage({ type: "openconsult:widget-height", height: height }, "*");
  }

  if (window.ResizeObserver) {
    new ResizeObserver(reportHeight).observe(document.documentElement);
  }
  window.addEventListener("load", reportHeight);
  reportHeight();

  var list = document.getElementById("walk-in-list");
  var details = document.getElementById("walk-in-details");
  if (!list || !list.dataset.poll) return;
  var seconds = Number(list.dataset.pollSeconds) || 15;
  var last = list.innerHTML.trim();

  function refresh() {
    if (document.hidden) return;
    var checked = list.querySelector("input[name=practitioner]:checked");
    var url = list.dataset.poll + (list.dataset.poll.indexOf("?") < 0 ? "?" : "&") + "chosen=" + encodeURIComponent(checked ? checked.value : "");
    fetch(url, { credentials: "omit", cache: "no-store", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null || html.trim() === last) return; // unchanged: keep focus and what is announced
        // Keep the keyboard where it was when the list did not change under it.
        var focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement.value : null;
        list.innerHTML = html;
        last = list.innerHTML.trim();
        var count = Number(list.firstElementChild && list.firstElementChild.dataset.count);
        if (details) details.hidden = !count;
        if (focused !== null) {
          var again = list.querySelector('input[name=practitioner][value="' + focused.replace(/"/g, "") + '"]');
          if (again) again.focus();
        }
        reportHeight();
      })
      .catch(function () { /* offline for a moment: the next round tries again */ });
  }

  window.setInterval(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(); });
})();
