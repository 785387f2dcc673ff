/* Consoles: show only the application fields that fit the chosen seller kind. No framework. */
(function () {
  var select = document.getElementById('kind');
  if (!select) return;
  var groups = document.querySelectorAll('fieldset[data-kinds]');
  function sync() {
    groups.forEach(function (g) {
      var show = g.getAttribute('data-kinds').split(' ').indexOf(select.value) !== -1;
      g.hidden = !show;
    });
  }
  select.addEventListener('change', sync);
  sync();
})();
