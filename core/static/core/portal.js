// Behaviour of the portal's pages, loaded by base.html. No page carries
// inline scripts: the Content-Security-Policy allows only files from /static/.
(function () {
  "use strict";
  // An error summary takes the focus so screen readers announce it first.
  var summary = document.querySelector("[data-autofocus]");
  if (summary) {
    summary.focus();
  }
  // The demo IdP's SAML POST binding: the form goes on by itself; without
  // scripts the person presses its button.
  var post = document.querySelector("form[data-autosubmit]");
  if (post) {
    post.submit();
  }
  // The rating component (enrollment/_feedback.html): the follow-up question
  // that matches the stars, and the answers sent without leaving the page.
  // Without scripts the same form is a plain POST with both questions shown.
  document.querySelectorAll("form[data-feedback-form]").forEach(function (form) {
    var status = form.parentNode.querySelector("[data-feedback-status]");
    var groups = form.querySelectorAll("[data-feedback-for]");
    form.querySelectorAll("[data-feedback-hint]").forEach(function (hint) {
      hint.classList.add("d-none");
    });
    function show(rating) {
      groups.forEach(function (group) {
        var kind = rating >= 4 ? "positive" : "negative";
        group.classList.toggle("d-none", !rating || group.getAttribute("data-feedback-for") !== kind);
      });
    }
    show(0);
    form.querySelectorAll("input[name=rating]").forEach(function (star) {
      star.addEventListener("change", function () {
        show(parseInt(star.value, 10));
      });
    });
    form.addEventListener("submit", function (event) {
      if (!window.fetch) {
        return;
      }
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.json().then(function (data) {
            return { ok: response.ok, data: data };
          });
        })
        .then(function (result) {
          if (result.ok) {
            form.remove();
            status.textContent = result.data.message;
          } else {
            button.disabled = false;
            status.textContent = result.data.error;
            status.classList.add("text-danger");
          }
          status.focus();
        })
        .catch(function () {
          // A lost connection or a page that is not JSON (the session expired):
          // the plain POST still works and shows the outcome.
          form.submit();
        });
    });
  });
})();
