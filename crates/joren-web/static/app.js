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
