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
})();
