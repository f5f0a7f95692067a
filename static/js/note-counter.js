// The note editor: a live "N/300" counter of the note a prospect will get, a status line for
// screen readers, and buttons that insert a variable at the cursor.
// A convenience only: the server counts again (campaigns/notes.py check_note) and decides.
// The limit is the counter's data-note-max-length, rendered from campaigns.notes.NOTE_MAX_LENGTH.
// Markup: templates/campaigns/_note_editor.html. Elements are found by data attributes, and
// events are delegated from the document, so editors swapped in by htmx work too.
//
// What is counted: the template rendered with the values in the counter's data-note-measure
// (campaigns/views/notes.py NoteMeasure) — sample prospects' values at first, then the values of
// the prospect whose note the preview found longest. Each preview answer brings them again, so
// the counter and the preview count the same note with the same rule.
(function () {
  "use strict";

  var WARN_MARGIN = 20; // "close to the limit" from 20 characters before it
  // campaigns/notes.py VARIABLE_PATTERN: `{first_name}` or `{first_name|there}`.
  var VARIABLE = /\{\s*([a-z_]+)\s*(?:\|([^{}]*))?\}/g;

  // The note rule as OutX applies it: line breaks as LF, String.prototype.trim, UTF-16 length.
  function outreachNoteLength(text) {
    return String(text).replace(/\r\n?/g, "\n").trim().length;
  }
  window.outreachNoteLength = outreachNoteLength;

  // campaigns/notes.py render_note: each variable's value, or its fallback when the value is
  // empty; null when a variable is unknown or has neither (that prospect gets no note).
  function renderNote(template, values) {
    var renders = true;
    var text = String(template).replace(/\r\n?/g, "\n").replace(VARIABLE, function (match, name, fallback) {
      if (!Object.prototype.hasOwnProperty.call(values, name)) {
        renders = false;
        return "";
      }
      var value = String(values[name] || "").trim();
      if (value) return value;
      if (fallback !== undefined) return fallback.trim();
      renders = false;
      return "";
    });
    return renders ? text : null;
  }
  window.outreachRenderNote = renderNote;

  function hasVariables(text) {
    return new RegExp(VARIABLE.source).test(text);
  }

  function measureOf(counter) {
    try {
      return JSON.parse(counter.getAttribute("data-note-measure") || "null");
    } catch (error) {
      return null;
    }
  }

  // The note's length as NoteMeasure gives it: the longest note the candidates' values render.
  function measuredNote(text, measure) {
    if (!hasVariables(text)) return { length: outreachNoteLength(text), label: "" };
    var longest = null;
    ((measure && measure.candidates) || []).forEach(function (values) {
      var note = renderNote(text, values);
      if (note === null) return;
      var length = outreachNoteLength(note);
      if (longest === null || length > longest) longest = length;
    });
    if (longest === null) return { length: outreachNoteLength(text), label: "as typed" };
    return { length: longest, label: measure.label };
  }

  function countersFor(textarea) {
    if (!textarea.id) return [];
    return document.querySelectorAll('[data-note-counter-for="' + CSS.escape(textarea.id) + '"]');
  }

  function fieldName(textarea) {
    var label = textarea.labels && textarea.labels[0];
    return label ? label.textContent.trim() : "Note";
  }

  // Said once when the note goes over the limit, close to it, or back within it; never at
  // each keystroke (the counter itself is no live region).
  function announce(textarea, state, previous, length, limit) {
    var announcer = document.querySelector('[data-note-announcer-for="' + CSS.escape(textarea.id) + '"]');
    if (!announcer || state === previous) return;
    var counted = length + " of " + limit + " characters.";
    var name = fieldName(textarea);
    if (state === "over") {
      announcer.textContent = name + ": over the limit, " + counted;
    } else if (previous === "over") {
      announcer.textContent = name + ": within the limit again, " + counted;
    } else if (state === "close") {
      announcer.textContent = name + ": close to the limit, " + counted;
    }
  }

  function showCount(counter, quietly) {
    var textarea = document.getElementById(counter.getAttribute("data-note-counter-for"));
    var limit = parseInt(counter.getAttribute("data-note-max-length"), 10);
    if (!textarea || !(limit > 0)) return;
    var warnFrom = limit - WARN_MARGIN;
    var note = measuredNote(textarea.value, measureOf(counter));
    var length = note.length;
    var text = length + "/" + limit;
    if (note.label) text += " · " + note.label;
    // Said in words as well as in colour.
    if (length > limit) {
      text += " · " + (length - limit) + " over the limit: LinkedIn refuses notes longer than " + limit;
    } else if (length >= warnFrom) {
      text += " · close to the limit";
    }
    counter.textContent = text;
    counter.classList.toggle("note-counter-warning", length >= warnFrom && length <= limit);
    counter.classList.toggle("note-counter-error", length > limit);
    var state = length > limit ? "over" : length >= warnFrom ? "close" : "within";
    if (!quietly) announce(textarea, state, counter.getAttribute("data-note-state"), length, limit);
    counter.setAttribute("data-note-state", state);
  }

  // A preview answer's measures (note_preview.html): each counter takes its field's.
  function takeMeasures(root) {
    within(root, "[data-note-measure-for]").forEach(function (measure) {
      var name = measure.getAttribute("data-note-measure-for");
      var textarea = document.querySelector('.note-editor textarea[name="' + CSS.escape(name) + '"]');
      if (!textarea) return;
      Array.prototype.forEach.call(countersFor(textarea), function (counter) {
        counter.setAttribute("data-note-measure", measure.getAttribute("data-note-measure"));
        showCount(counter, false);
      });
    });
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
    // Shown as the page opens, without announcing what the person has not changed yet.
    within(scope, "[data-note-counter-for]").forEach(function (counter) { showCount(counter, true); });
    takeMeasures(scope);
    // The buttons need this script; without it they stay hidden and the hint lists the variables.
    within(scope, "[data-note-variables]").forEach(function (toolbar) { toolbar.hidden = false; });
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target instanceof HTMLTextAreaElement) {
      Array.prototype.forEach.call(countersFor(target), function (counter) { showCount(counter, false); });
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
