/* OpenConsult widgets: sizes each <iframe data-openconsult-widget> to the height its page reports.
 *
 * Put once on the page, after or before the iframes:
 *   <script src="https://<organisation>.<domain>/static/widgets/embed.js" async></script>
 * The widget page posts {type: "openconsult:widget-height", height} to its parent; a message counts only
 * when it comes from the window of one of these iframes and from that iframe's own origin.
 */
(function () {
  "use strict";
  if (window.__openconsultWidgets) return; // the script may be included more than once
  window.__openconsultWidgets = true;

  var MIN_HEIGHT = 120;
  var MAX_HEIGHT = 10000;

  function originOf(src) {
    try {
      return new URL(src, window.location.href).origin;
    } catch (error) {
      return null;
    }
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data !== "object" || data.type !== "openconsult:widget-height") return;
    var height = Number(data.height);
    if (!isFinite(height)) return;
    var frames = document.querySelectorAll("iframe[data-openconsult-widget]");
    for (var i = 0; i < frames.length; i++) {
      var frame = frames[i];
      if (frame.contentWindow !== event.source) continue;
      if (originOf(frame.src) !== event.origin) return;
      frame.style.height = Math.max(MIN_HEIGHT, Math.min(Math.ceil(height), MAX_HEIGHT)) + "px";
      frame.style.minHeight = "0";
      return;
    }
  });
})();
