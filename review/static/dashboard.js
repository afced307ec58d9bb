// Small progressive enhancements; every page works without JavaScript.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("bulk-form");
  if (!form) return;
  const all = document.getElementById("select-all");
  const boxes = () => Array.from(form.querySelectorAll('input[type="checkbox"][name="tip"]'));
  const counter = document.getElementById("selected-count");
  const apply = document.getElementById("bulk-apply");
  const refresh = () => {
    const chosen = boxes().filter((box) => box.checked).length;
    if (counter) counter.textContent = chosen ? `(${chosen} selected)` : "";
    if (apply) apply.disabled = chosen === 0;
    if (all) {
      all.checked = chosen > 0 && chosen === boxes().length;
      all.indeterminate = chosen > 0 && chosen < boxes().length;
    }
  };
  if (all) {
    all.addEventListener("change", () => {
      boxes().forEach((box) => { box.checked = all.checked; });
      refresh();
    });
  }
  form.addEventListener("change", refresh);
  refresh();
});
