// The note editor: a live "N/300" counter and buttons that insert a variable at the cursor.
// A convenience only: the server counts again (campaigns/notes.py check_note) and decides.
// The limit is the counter's data-note-max-length, rendered from campaigns.notes.NOTE_MAX_LENGTH.
// Markup: templates/campaigns/_note_editor.html. Elements are found by data attributes, and
// events are delegated from the document, so editors swapped in by htmx work too.
(function () {
  "use strict";

  var WARN_MARGIN = 20; // "close to the limit" from 20 characters before it

  // The note rule as OutX applies it: line breaks as LF, String.prototype.trim, UTF-16 length.
  function outreachNoteLength(text) {
    return String(text).replace(/\r\n?/g, "\n").trim().length;
  }
  window.outreachNoteLength = outreachNoteLength;

  function countersFor(textarea) {
    if (!textarea.id) return [];
    return document.querySelectorAll('[data-note-counter-for="' + CSS.escape(textarea.id) + '"]');
  }

  function showCount(counter) {
    var textarea = document.getElementById(counter.getAttribute("data-note-counter-for"));
    var limit = parseInt(counter.getAttribute("data-note-max-length"), 10);
    if (!textarea || !(limit > 0)) return;
    var warnFrom = limit - WARN_MARGIN;
    var length = outreachNoteLength(textarea.value);
    var text = length + "/" + limit;
    // Said in words as well as in colour.
    if (length > limit) {
      text += " · " + (length - limit) + " over the limit: LinkedIn refuses notes longer than " + limit;
    } else if (length >= warnFrom) {
      text += " · close to the limit";
    }
    counter.textContent = text;
    counter.classList.toggle("note-counter-warning", length >= warnFrom && length <= limit);
    counter.classList.toggle("note-counter-error", length > limit);
  }

  function insertAtCursor(textarea, text) {
    textarea.focus();
    textarea.setRangeText(text, textarea.selectionStart, textarea.selectionEnd, "end");
    // An input event, as typing would send: the counter and the htmx preview follow it.
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // Elements matching `selector` in `root`, root included (htmx:load hands over the swapped element).
  function within(root, selector) {
    var found = Array.prototype.slice.call(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) found.push(root);
    return found;
  }

  function setUp(root) {
    var scope = root && root.querySelectorAll ? root : document;
    within(scope, "[data-note-counter-for]").forEach(showCount);
    // The buttons need this script; without it they stay hidden and the hint lists the variables.
    within(scope, "[data-note-variables]").forEach(function (toolbar) { toolbar.hidden = false; });
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target instanceof HTMLTextAreaElement) {
      Array.prototype.forEach.call(countersFor(target), showCount);
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element && event.target.closest("[data-note-insert]");
    if (!button) return;
    var textarea = document.getElementById(button.getAttribute("data-note-insert-into"));
    if (textarea) insertAtCursor(textarea, button.getAttribute("data-note-insert"));
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  } else {
    setUp(document);
  }
  // htmx fires htmx:load on every element it swaps in (and once on the body at start).
  document.addEventListener("htmx:load", function (event) { setUp(event.detail && event.detail.elt); });
})();
