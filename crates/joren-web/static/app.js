// Page behaviour that needs script, loaded from this server (the Content-Security-Policy allows
// no inline script): forms with data-confirm ask before they are sent.
document.addEventListener('submit', function (e) {
  var form = e.target;
  var question = form && form.getAttribute && form.getAttribute('data-confirm');
  if (question && !window.confirm(question)) {
    e.preventDefault();
  }
});

// A button with data-print prints the page (the address labels and postcards).
document.addEventListener('click', function (e) {
  var b = e.target && e.target.closest && e.target.closest('[data-print]');
  if (b) {
    window.print();
  }
});

// Fields that matter for some choices only (data-when="field:value,value"): shown while the
// named field holds one of the values. Without script every field shows.
function applyWhen(root) {
  root.querySelectorAll('[data-when]').forEach(function (el) {
    var spec = el.getAttribute('data-when').split(':');
    var field = el.form ? el.form.elements[spec[0]] : document.querySelector('[name="' + spec[0] + '"]');
    if (!field) return;
    // A radio group answers with its checked button.
    if (field.type === 'radio') field = document.querySelector('[name="' + spec[0] + '"]:checked') || field;
    el.hidden = spec[1].split(',').indexOf(field.value) < 0;
  });
}
document.addEventListener('change', function () { applyWhen(document); });
document.addEventListener('DOMContentLoaded', function () { applyWhen(document); });
