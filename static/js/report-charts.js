/* The office report's charts (static/vendor/echarts), drawn from the numbers the page carries:
   <div class="chart" data-chart='{"kind": ..., ...}' hidden> (amounts in fen). The same numbers
   are in the tables under each chart, so without JavaScript (or ECharts) the page still reads;
   the chart boxes stay hidden then.
   - kind "trend": {"labels": ["2026-01", ...], "series": [{"name", "values"}, ...]}: lines;
   - kind "pie": {"name", "items": [{"name", "value"}, ...]}: a share of a whole;
   - kind "bars": {"labels", "series"}: sub-regions side by side (horizontal bars, phone first).
   Tooltips render on the canvas (renderMode richText): the CSP allows no inline styles. */
(function () {
  'use strict';
  if (!window.echarts) return;
  var COLORS = ['#b8322a', '#2e6b26', '#d08c1f', '#3b6ea8', '#7a4f9a', '#5f5f5f'];

  function yuan(fen) { return Math.round(fen) / 100; }
  function money(value) {
    return '¥' + Number(value).toLocaleString(chinese ? 'zh-CN' : 'en', {minimumFractionDigits: 2, maximumFractionDigits: 2});
  }
  var chinese = (document.documentElement.lang || 'zh').indexOf('zh') === 0;
  // axis labels: 1.2万 and 3亿 in Chinese, 12k and 300M in English
  var STEPS = chinese ? [[100000000, '亿'], [10000, '万']] : [[1000000, 'M'], [1000, 'k']];
  function compact(value) {
    for (var i = 0; i < STEPS.length; i++) {
      if (Math.abs(value) >= STEPS[i][0]) {
        return (value / STEPS[i][0]).toFixed(1).replace(/\.0$/, '') + STEPS[i][1];
      }
    }
    return String(value);
  }
  var tooltip = {renderMode: 'richText', confine: true, valueFormatter: money};

  function trend(spec) {
    return {
      color: COLORS, tooltip: Object.assign({trigger: 'axis'}, tooltip),
      legend: {top: 0}, grid: {left: 8, right: 12, top: 32, bottom: 8, containLabel: true},
      xAxis: {type: 'category', data: spec.labels, boundaryGap: false,
              axisLabel: {formatter: function (v) { return v.slice(2); }}},
      yAxis: {type: 'value', axisLabel: {formatter: compact}},
      series: spec.series.map(function (s) {
        return {name: s.name, type: 'line', smooth: true, symbolSize: 5, data: s.values.map(yuan)};
      })
    };
  }

  function pie(spec) {
    return {
      color: COLORS, tooltip: Object.assign({trigger: 'item'}, tooltip),
      legend: {bottom: 0, type: 'scroll'},
      series: [{name: spec.name, type: 'pie', radius: ['35%', '62%'], center: ['50%', '45%'],
                label: {formatter: '{b}\n{d}%'},
                data: spec.items.map(function (i) { return {name: i.name, value: yuan(i.value)}; })}]
    };
  }

  function bars(spec, node) {
    // one row per sub-region, the first at the top; the box grows with the rows
    node.style.height = Math.max(240, spec.labels.length * 22 * spec.series.length + 90) + 'px';
    return {
      color: COLORS, tooltip: Object.assign({trigger: 'axis', axisPointer: {type: 'shadow'}}, tooltip),
      legend: {top: 0}, grid: {left: 8, right: 16, top: 32, bottom: 8, containLabel: true},
      xAxis: {type: 'value', axisLabel: {formatter: compact}},
      yAxis: {type: 'category', data: spec.labels, inverse: true,
              axisLabel: {width: 96, overflow: 'truncate'}},
      series: spec.series.map(function (s) {
        return {name: s.name, type: 'bar', barMaxWidth: 14, data: s.values.map(yuan)};
      })
    };
  }

  var builders = {trend: trend, pie: pie, bars: bars};
  var charts = [];
  Array.prototype.forEach.call(document.querySelectorAll('[data-chart]'), function (node) {
    var spec;
    try { spec = JSON.parse(node.getAttribute('data-chart')); } catch (e) { return; }
    var build = builders[spec.kind];
    if (!build) return;
    node.hidden = false;
    var option = build(spec, node);
    option.animation = false;
    option.aria = {enabled: false};  // the box has its own label; the table has the numbers
    var chart = window.echarts.init(node, null, {renderer: 'canvas'});
    chart.setOption(option);
    node.setAttribute('data-drawn', 'true');
    charts.push(chart);
  });
  var pending = null;
  window.addEventListener('resize', function () {
    clearTimeout(pending);
    pending = setTimeout(function () { charts.forEach(function (c) { c.resize(); }); }, 150);
  });
})();
