// Planning runs synchronously: say so on the button while the request is in flight.
document.addEventListener("submit", function (event) {
  var button = event.target.querySelector("button[data-waiting]");
  if (button) {
    button.setAttribute("aria-disabled", "true");
    button.textContent = button.getAttribute("data-waiting");
  }
});
