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

// The header's settings menu (a <details>) closes on a click elsewhere or Escape, as menus do.
document.addEventListener('click', function (e) {
  document.querySelectorAll('details.settings-menu[open]').forEach(function (d) {
    if (!d.contains(e.target)) {
      d.open = false;
    }
  });
});
document.addEventListener('keydown', function (e) {
  if (e.key === 'Escape') {
    document.querySelectorAll('details.settings-menu[open]').forEach(function (d) {
      d.open = false;
    });
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

// A postal code box with data-postal-fill="prefecture-id city-id street-id": once seven digits
// are typed (full-width too), the address is looked up in the table that ships with Joren and
// the boxes that are empty — or still hold what the last lookup put there — are filled. Where a
// code covers several 町域, they are offered as choices for the street box.
(function () {
  var filled = {};
  function digits(v) {
    return v.replace(/[０-９]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xfee0); }).replace(/[^0-9]/g, '');
  }
  function put(el, value) {
    if (!el) return;
    if (el.value === '' || el.value === filled[el.id]) {
      el.value = value;
      filled[el.id] = value;
      el.dispatchEvent(new Event('change', { bubbles: true }));
    }
  }
  document.addEventListener('input', function (e) {
    var box = e.target;
    if (!box.getAttribute || !box.getAttribute('data-postal-fill')) return;
    var code = digits(box.value);
    if (code.length !== 7 || box.getAttribute('data-postal-last') === code) return;
    box.setAttribute('data-postal-last', code);
    var ids = box.getAttribute('data-postal-fill').split(' ');
    fetch('/postal/' + code, { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (v) {
        var items = v.items || [];
        if (!items.length) return;
        var pref = document.getElementById(ids[0]), city = document.getElementById(ids[1]), street = document.getElementById(ids[2]);
        put(pref, items[0].prefecture);
        put(city, items[0].city);
        var towns = items.map(function (a) { return a.town; }).filter(function (t) { return t; });
        put(street, items.length === 1 ? items[0].town : '');
        var list = street && street.list;
        if (list) {
          list.innerHTML = '';
          towns.forEach(function (t) { var o = document.createElement('option'); o.value = t; list.appendChild(o); });
        }
      });
  });
})();

// A button with data-scan-into="input-id" reads a QR code (the member card) with the camera,
// where the browser has a barcode reader (BarcodeDetector: phones and tablets), puts what it
// read into the input and sends its form. Elsewhere the button stays hidden: a USB scanner
// types the number into the box like a keyboard.
(function () {
  if (!('BarcodeDetector' in window) || !navigator.mediaDevices) return;
  document.querySelectorAll('[data-scan-into]').forEach(function (button) {
    button.hidden = false;
    var label = button.textContent;
    var video = document.getElementById(button.id + '-video');
    var stream = null;
    function stop() {
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
      if (video) video.hidden = true;
      button.textContent = label;
    }
    button.addEventListener('click', function () {
      if (stream) { stop(); return; }
      var detector = new window.BarcodeDetector({ formats: ['qr_code'] });
      navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } }).then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        video.play();
        button.textContent = button.getAttribute('data-stop');
        (function look() {
          if (!stream) return;
          detector.detect(video).then(function (codes) {
            if (codes.length) {
              var input = document.getElementById(button.getAttribute('data-scan-into'));
              input.value = codes[0].rawValue;
              stop();
              input.form.submit();
            } else {
              requestAnimationFrame(look);
            }
          }).catch(function () { requestAnimationFrame(look); });
        })();
      }).catch(stop);
    });
  });
})();

// A list of saved replies (定型文): choosing one fills the text box it names.
(function () {
  document.querySelectorAll('select[data-fill]').forEach(function (select) {
    select.addEventListener('change', function () {
      var box = document.getElementById(select.getAttribute('data-fill'));
      if (box && select.value) box.value = select.value;
    });
  });
})();

// An SMS text box counts as it is typed: characters and segments, as joren_core::sms does
// (GSM-7: 160 in one, 153 each in several, extension characters count two; anything else is
// UCS-2: 70 UTF-16 units in one, 67 each in several).
(function () {
  var basic = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
  var extended = '\f^{}\\[~]|€';
  function segments(text) {
    var septets = 0, gsm = true;
    for (var ch of text) {
      if (basic.indexOf(ch) >= 0) septets += 1;
      else if (extended.indexOf(ch) >= 0) septets += 2;
      else { gsm = false; break; }
    }
    var units = gsm ? septets : text.length;
    var one = gsm ? 160 : 70, each = gsm ? 153 : 67;
    return units === 0 ? 0 : units <= one ? 1 : Math.ceil(units / each);
  }
  document.querySelectorAll('textarea[data-sms-count]').forEach(function (box) {
    var out = document.getElementById(box.getAttribute('data-sms-count'));
    if (!out) return;
    function show() {
      var text = box.value.trim();
      out.textContent = out.getAttribute('data-words')
        .replace('{0}', Array.from(text).length).replace('{1}', segments(text));
    }
    box.addEventListener('input', show);
    show();
  });
})();
