// Quantity steppers: − and + buttons around a number input (<span data-stepper> holding
// <button data-step="-1|1" hidden> and <input type="number" min max>). Without JavaScript the
// buttons stay hidden and the number is typed; with it they step within min and max and are
// disabled at either end.
(function () {
  document.querySelectorAll("[data-stepper]").forEach(function (box) {
    var input = box.querySelector("input[type=number]");
    if (!input) return;
    var buttons = box.querySelectorAll("button[data-step]");
    function limit(name, fallback) {
      var n = parseInt(input.getAttribute(name), 10);
      return isNaN(n) ? fallback : n;
    }
    function current() {
      var n = parseInt(input.value, 10);
      return isNaN(n) ? limit("min", 1) : n;
    }
    function sync() {
      var n = current();
      buttons.forEach(function (button) {
        var up = parseInt(button.getAttribute("data-step"), 10) > 0;
        button.disabled = up ? n >= limit("max", Infinity) : n <= limit("min", 1);
      });
    }
    buttons.forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var step = parseInt(button.getAttribute("data-step"), 10) || 0;
        var n = Math.min(limit("max", Infinity), Math.max(limit("min", 1), current() + step));
        input.value = String(n);
        input.dispatchEvent(new Event("change", { bubbles: true }));
        sync();
      });
    });
    input.addEventListener("input", sync);
    input.addEventListener("change", sync);
    sync();
  });
})();
