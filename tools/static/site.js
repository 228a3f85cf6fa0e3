/* The website's small helpers (no dependencies), loaded on every page by _config.yml.
 *
 * - An inline formula wider than its line (a phone, a long sum) gets the class
 *   cnn-wide-math: custom.css then shows it on its own line, scrolling sideways inside its box
 *   instead of being cut off at the edge of the page.
 * - A box that scrolls sideways (such a formula, a wide output on a phone) can take the
 *   keyboard focus, so that it can be scrolled without a pointer.
 * - A figure the column shrinks (its natural width is larger than shown) can be tapped or
 *   clicked to open it at full size in a dialog that scrolls; Escape, the close button or
 *   another tap closes it.
 */
(function () {
  "use strict";

  function markWideMath() {
    document.querySelectorAll('mjx-container[jax]:not([display="true"])').forEach((math) => {
      const line = math.parentElement;
      if (!line) return;
      math.classList.remove("cnn-wide-math");
      if (math.getBoundingClientRect().width > line.clientWidth + 1) {
        math.classList.add("cnn-wide-math");
      }
    });
  }

  function whenTypeset(callback) {
    const startup = window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
    if (startup) startup.then(callback, () => {});
  }

  let dialog = null;
  function zoom(img) {
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.className = "cnn-zoom";
      dialog.setAttribute("aria-label", "Figure at full size");
      const close = document.createElement("button");
      close.type = "button";
      close.className = "btn btn-sm";
      close.setAttribute("aria-label", "Close the full-size figure");
      close.textContent = "✕";
      close.addEventListener("click", () => dialog.close());
      dialog.append(close, document.createElement("img"));
      dialog.addEventListener("click", (event) => {
        if (event.target !== close) dialog.close();
      });
      document.body.append(dialog);
    }
    const big = dialog.querySelector("img");
    big.src = img.currentSrc || img.src;
    big.alt = img.alt;
    dialog.showModal();
  }

  function markZoomable() {
    document.querySelectorAll(".bd-article img").forEach((img) => {
      if (img.closest("a, .cnn-explorer, .animation")) return;
      const shrunk = img.naturalWidth > img.clientWidth + 2;
      img.classList.toggle("cnn-zoomable", shrunk);
      if (shrunk && !img.dataset.cnnZoom) {
        // a pointer convenience (keyboard readers zoom the page): the image keeps its role
        img.dataset.cnnZoom = "true";
        img.addEventListener("click", () => img.classList.contains("cnn-zoomable") && zoom(img));
      }
    });
  }

  const SCROLLERS = 'div.cell_output, mjx-container.cnn-wide-math, mjx-container[display="true"]';
  function focusableScrollers() {
    document.querySelectorAll(SCROLLERS).forEach((box) => {
      const scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.tabIndex = 0;
        box.dataset.cnnScroll = "true";
      } else if (!scrolls && box.dataset.cnnScroll) {
        box.removeAttribute("tabindex");
        delete box.dataset.cnnScroll;
      }
    });
  }

  function refresh() {
    markWideMath();
    markZoomable();
    focusableScrollers();
  }

  window.addEventListener("load", () => {
    refresh();
    whenTypeset(() => {
      markWideMath();
      focusableScrollers();
    });
  });
  let pending = null;
  window.addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(refresh, 150);
  });
  window.CnnSite = {markWideMath, markZoomable};
})();
