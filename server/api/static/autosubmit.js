// Sends the sandbox's simulated AWS registration form at once, as AWS
// Marketplace's page does (a file, not inline script: the pages' CSP
// allows scripts from this site only).
document.addEventListener('DOMContentLoaded', function () {
  var f = document.getElementById('f');
  if (f) f.submit();
});
