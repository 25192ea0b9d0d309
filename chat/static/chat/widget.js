/* The public chat widget (F-CHAT-6): remember the visitor's conversation in the frame's own storage.
 *
 * The conversation page carries the visitor's token (data-chat-widget-token); it is kept in localStorage per
 * widget key, so the start page can offer "Continue your earlier conversation" when the visitor comes back to
 * the site. The token is checked first (the updates URL answers 404 for an unknown one): a deleted
 * conversation is forgotten quietly. "Start a new conversation" forgets it on purpose.
 * Storage may be blocked (private windows, strict third-party rules): then the widget simply does not remember.
 */
(function () {
  "use strict";

  var main = document.querySelector("[data-chat-widget-key]");
  if (!main) return;
  var storageKey = "openconsult-chat:" + main.dataset.chatWidgetKey;

  function remembered() {
    try { return window.localStorage.getItem(storageKey) || ""; } catch (error) { return ""; }
  }
  function remember(token) {
    try { window.localStorage.setItem(storageKey, token); } catch (error) { /* not remembered */ }
  }
  function forget() {
    try { window.localStorage.removeItem(storageKey); } catch (error) { /* nothing kept */ }
  }

  if (main.dataset.chatWidgetToken) remember(main.dataset.chatWidgetToken);

  var forgetLink = document.querySelector("[data-chat-widget-forget]");
  if (forgetLink) forgetLink.addEventListener("click", forget);

  var resume = document.querySelector("[data-chat-widget-resume]");
  var token = remembered();
  if (!resume || !token || !/^[A-Za-z0-9_-]{20,100}$/.test(token)) return;
  var start = window.location.pathname.replace(/\/?$/, "/");
  var conversation = start + "c/" + encodeURIComponent(token) + "/";
  fetch(conversation + "updates/?after=" + Number.MAX_SAFE_INTEGER, { credentials: "omit", cache: "no-store",
    headers: { Accept: "application/json" } })
    .then(function (response) {
      if (response.status === 404) { forget(); return; }
      if (!response.ok) return;
      var link = resume.querySelector("[data-chat-widget-resume-link]");
      link.href = conversation + window.location.search;
      resume.hidden = false;
    })
    .catch(function () { /* offline: the start form still works */ });
})();
