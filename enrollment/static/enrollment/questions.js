// Conditional questions of the enrollment form (required_if in the service's
// definition). Without scripts every question is shown with its "Da compilare
// solo se ..." note and the server drops what does not apply; with scripts a
// question is hidden until its condition holds. The controlling inputs carry
// aria-controls pointing at the blocks they show or hide.
(function () {
  "use strict";
  var blocks = document.querySelectorAll("[data-depends-on]");
  if (!blocks.length) {
    return;
  }
  function matches(name, expected) {
    var inputs = document.querySelectorAll('[name="' + name + '"]');
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      if (input.type === "checkbox" && inputs.length === 1 && input.value === "true") {
        return (input.checked ? "true" : "false") === expected;
      }
      if (input.type === "checkbox" || input.type === "radio") {
        if (input.checked && input.value === expected) {
          return true;
        }
      } else if (input.value === expected) {
        return true;
      }
    }
    return false;
  }
  function update() {
    for (var i = 0; i < blocks.length; i++) {
      var block = blocks[i];
      var visible = matches(block.getAttribute("data-depends-on"), block.getAttribute("data-depends-value"));
      block.hidden = !visible;
    }
  }
  document.addEventListener("change", update);
  update();
})();
