/* Small behaviours of every page, without inline scripts (the Content-Security-Policy allows
   only script files from this site):
   - <form data-confirm="question">: asks before a destructive or one-way step is posted;
   - <button data-print>: prints the page (invoices);
   - <select data-autosubmit data-clears="other">: submits its form on change, emptying the
     named field first (office filters: a new township clears the village). */
(function () {
  document.addEventListener('submit', function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  }, true);
  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('[data-print]');
    if (button) {
      window.print();
    }
  });
  document.addEventListener('change', function (event) {
    var select = event.target;
    if (!select.hasAttribute || !select.hasAttribute('data-autosubmit') || !select.form) return;
    var clears = select.getAttribute('data-clears');
    if (clears && select.form.elements[clears]) {
      select.form.elements[clears].value = '';
    }
    select.form.submit();
  });
})();
