// Small progressive enhancements; every page works without JavaScript.
(function () {
  "use strict";
  var selectAll = document.getElementById("select-all");
  if (selectAll) {
    selectAll.addEventListener("change", function () {
      document.querySelectorAll(".ticket-select").forEach(function (box) {
        box.checked = selectAll.checked;
      });
    });
  }
})();
