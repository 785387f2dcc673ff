/* The 省 > 市 > 区县 choice of an address form, without reloading the page.

   <fieldset data-region-steps="/api/v1/regions/CODE/children"> holds three selects (province,
   city, region_code) and a <p data-region-step> with the button that, without JavaScript,
   posts the form so that the server lists the next level. Here that button goes away: a new
   province or city empties the selects below it and fills the next one from the JSON
   endpoint (CODE replaced by the chosen code); a single child (北京市 > 市辖区) is chosen at
   once. If the endpoint cannot be reached the button comes back and the server does it. */
(function () {
  var box = document.querySelector('[data-region-steps]');
  if (!box || !window.fetch) return;
  var url = box.getAttribute('data-region-steps');
  var selects = ['province', 'city', 'region_code'].map(function (name) {
    return box.querySelector('select[name="' + name + '"]');
  });
  if (selects.some(function (s) { return !s; })) return;
  var step = box.querySelector('[data-region-step]');
  var stepPlace = step && { parent: step.parentNode, next: step.nextSibling };
  if (step) step.parentNode.removeChild(step);
  var asked = [0, 0, 0];  // the latest request per level: older answers are dropped

  function empty(select) {
    while (select.options.length > 1) select.remove(1);  // the first option is the prompt
    select.value = '';
  }

  function fallBack() {
    if (step && !step.parentNode) stepPlace.parent.insertBefore(step, stepPlace.next);
  }

  function load(level) {
    var code = selects[level].value;
    for (var below = level + 1; below < selects.length; below++) empty(selects[below]);
    if (level >= selects.length - 1 || !code) return;
    var target = selects[level + 1];
    var ticket = ++asked[level];
    target.setAttribute('aria-busy', 'true');
    fetch(url.replace('CODE', encodeURIComponent(code)), {
      headers: { Accept: 'application/json' }, credentials: 'same-origin'
    }).then(function (response) {
      if (!response.ok) throw new Error('HTTP ' + response.status);
      return response.json();
    }).then(function (data) {
      if (ticket !== asked[level] || selects[level].value !== code) return;
      data.items.forEach(function (item) {
        target.add(new Option(item.label || item.name, item.code));
      });
      if (data.items.length === 1) {
        target.value = data.items[0].code;
        load(level + 1);
      }
    }).catch(fallBack).then(function () {
      target.removeAttribute('aria-busy');
    });
  }

  selects.forEach(function (select, level) {
    select.addEventListener('change', function () { load(level); });
  });
})();
