// The Jupyter widget manager (html-manager/embed.js) typesets widget labels through MathJax 2's
// `MathJax.Hub.Queue`; this site runs MathJax 3, which has `MathJax.typesetPromise` instead.
// Loaded deferred right after MathJax, before the widgets are drawn (on DOMContentLoaded).
if (window.MathJax && !window.MathJax.Hub) {
  window.MathJax.Hub = {
    Queue: () => window.MathJax.startup.promise.then(() => window.MathJax.typesetPromise()),
  };
}
