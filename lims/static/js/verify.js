/* The verify page: "select all" ticks every result the reviewer may verify (never a disabled
 * box, i.e. a result he entered himself); it follows the boxes ticked one by one. */
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  if (!all) { return; }
  function boxes() {
    return Array.prototype.slice.call(
      document.querySelectorAll("input[name=result_ids]:not(:disabled)"));
  }
  all.addEventListener("change", function () {
    boxes().forEach(function (box) { box.checked = all.checked; });
  });
  document.addEventListener("change", function (event) {
    if (event.target.name !== "result_ids") { return; }
    var list = boxes();
    var ticked = list.filter(function (box) { return box.checked; }).length;
    all.checked = list.length > 0 && ticked === list.length;
    all.indeterminate = ticked > 0 && ticked < list.length;
  });
  if (!boxes().length) { all.disabled = true; }
}());
