// Ticks the board's timers between the 15-second refreshes (progressive enhancement only:
// the server renders the minutes; without JavaScript they update with each refresh).
(function () {
  function tick() {
    document.querySelectorAll(".timer[data-start]").forEach(function (el) {
      var start = Date.parse(el.getAttribute("data-start"));
      if (isNaN(start)) { return; }
      var secs = Math.max(0, Math.floor((Date.now() - start) / 1000));
      var m = Math.floor(secs / 60), s = secs % 60;
      var min = el.getAttribute("data-min") || "min", sec = el.getAttribute("data-sec") || "s";
      el.textContent = m + " " + min + " " + (s < 10 ? "0" : "") + s + " " + sec;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); });
})();
