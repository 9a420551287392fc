// A survey's follow-up questions: shown only after an answer in their range to the question
// they follow (the server decides too: an answer to a question not shown is not kept).
(function () {
  const form = document.getElementById("survey-form");
  if (!form) return;
  function score(key) {
    const picked = form.querySelector('input[name="' + key + '"]:checked') || form.querySelector('input[type=hidden][name="' + key + '"]');
    return picked ? Number(picked.value) : null;
  }
  function update() {
    form.querySelectorAll("fieldset[data-show-key]").forEach(function (f) {
      const v = score(f.dataset.showKey);
      const min = f.dataset.showMin === "" ? -Infinity : Number(f.dataset.showMin);
      const max = f.dataset.showMax === "" ? Infinity : Number(f.dataset.showMax);
      const shown = v !== null && v >= min && v <= max;
      f.hidden = !shown;
      f.querySelectorAll("input, textarea").forEach(function (i) { i.disabled = !shown; });
    });
  }
  form.addEventListener("change", update);
  update();
})();
