// Every page: after a save the server refused, focus goes to the first thing to fix, so a
// keyboard or screen reader user lands on it instead of at the top of the page.
// The first in page order of: a field marked aria-invalid="true" (Django marks each field with
// an error, and describes it by its error list), or an error list or alert about the whole form.
// An error about a field moves focus to that field; one about the form is focused itself.
(function () {
  "use strict";

  var FIRST_PROBLEM = '[aria-invalid="true"], form .errorlist, form .form-error[role="alert"]';

  function fieldFor(error) {
    if (error.id) {
      var described = document.querySelector('[aria-describedby~="' + CSS.escape(error.id) + '"]');
      if (described) return described;
    }
    var group = error.closest(".field, fieldset");
    return group && group.querySelector('[aria-invalid="true"]');
  }

  function focusFirstProblem() {
    var main = document.getElementById("main") || document.body;
    var problem = main.querySelector(FIRST_PROBLEM);
    if (!problem) return;
    if (problem.getAttribute("aria-invalid") !== "true") {
      var field = fieldFor(problem);
      if (field) {
        problem = field;
      } else if (!problem.hasAttribute("tabindex")) {
        problem.setAttribute("tabindex", "-1"); // focusable by script only, to be read out
      }
    }
    problem.focus();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusFirstProblem);
  } else {
    focusFirstProblem();
  }
})();
