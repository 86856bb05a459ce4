/* Switchboard visitor widget: placeholder until the widget is built. */
(function () {
  "use strict";
  if (window.Switchboard) return;
  window.Switchboard = { version: "0" };
})();
