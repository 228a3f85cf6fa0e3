/* The course website's live explorers: what they share.
 *
 * A chapter stores, next to an explorer's static figure, a mount point written by
 * helpers.plots.explorers.web_mount:
 *
 *   <div class="cnn-explorer" data-explorer="conv-arithmetic" data-config='{"n": 7, ...}'>
 *     <p class="cnn-explorer-note">(A static picture ...)</p>
 *   </div>
 *
 * Each explorer script registers a mount function under its name:
 *
 *   CnnExplorers.register("conv-arithmetic", function (root, config) { ... });
 *
 * and this file calls it once per mount point when the page is ready. Mounting removes the
 * note and hides the static figure of the same notebook cell (it stays the figure for print
 * and for readers without JavaScript). An explorer that cannot run (its mount function throws,
 * or it calls CnnExplorers.fail(root, why), e.g. when its weights do not load) gives the
 * static figure back, with a line saying why. Pure functions an explorer computes with (output size,
 * receptive field, a forward pass) are published on CnnExplorers.<name> so the browser tests
 * can compare them with the Python helpers.
 */
(function () {
  "use strict";

  const mounts = {};

  /* el("label", {for: "x", class: "y"}, "text", child, ...) -> an element. Attributes whose
   * value is null or false are skipped; event handlers go in as onclick/oninput functions. */
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value === null || value === false || value === undefined) continue;
      if (key.startsWith("on") && typeof value === "function") {
        node.addEventListener(key.slice(2), value);
      } else {
        node.setAttribute(key, value === true ? "" : String(value));
      }
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  let counter = 0;
  /* A unique id for label/aria wiring: uniqueId("stride") -> "cnn-stride-3". */
  function uniqueId(stem) {
    counter += 1;
    return `cnn-${stem}-${counter}`;
  }

  /* A labelled integer slider with its value shown beside it; keyboard-operable (arrows,
   * Page Up/Down, Home/End). onChange(value) runs on every change. Returns {node, input}. */
  function slider(label, {min, max, step = 1, value, onChange}) {
    const id = uniqueId("slider");
    const shown = el("output", {for: id, class: "cnn-slider-value"}, value);
    const input = el("input", {
      type: "range", id, min, max, step, value,
      oninput: () => {
        shown.textContent = input.value;
        onChange(Number(input.value));
      },
    });
    const node = el("div", {class: "cnn-slider"}, el("label", {for: id}, label), input, shown);
    return {node, input};
  }

  function mount(root) {
    const name = root.dataset.explorer;
    if (!mounts[name] || root.dataset.mounted) return;
    let config = {};
    try {
      config = JSON.parse(root.dataset.config || "{}");
    } catch (error) {
      console.error(`explorer ${name}: bad data-config`, error);
      return;
    }
    root.dataset.mounted = "true";
    root.querySelectorAll(".cnn-explorer-note").forEach((note) => note.remove());
    const output = root.closest(".cell_output");
    if (output) {
      output.querySelectorAll("img").forEach((img) => img.classList.add("cnn-explorer-fallback"));
    }
    root.classList.add("cnn-explorer-live");
    try {
      mounts[name](root, config);
    } catch (error) {
      console.error(`explorer ${name} failed`, error);
      fail(root, error.message);
    }
  }

  /* The explorer in root cannot run: remove it and show the cell's static figure again. */
  function fail(root, why) {
    root.classList.remove("cnn-explorer-live");
    root.classList.add("cnn-explorer-failed");
    root.dataset.failed = "true";
    root.replaceChildren(el("p", {class: "cnn-explorer-note"},
      `The live version of this figure could not start (${why}); the static figure shows it.`));
    const output = root.closest(".cell_output");
    if (output) {
      output.querySelectorAll("img.cnn-explorer-fallback")
        .forEach((img) => img.classList.remove("cnn-explorer-fallback"));
    }
  }

  function mountAll() {
    document.querySelectorAll(".cnn-explorer[data-explorer]").forEach(mount);
  }

  function register(name, mountFunction) {
    mounts[name] = mountFunction;
    if (document.readyState !== "loading") mountAll();
  }

  document.addEventListener("DOMContentLoaded", mountAll);
  window.CnnExplorers = Object.assign(window.CnnExplorers || {},
                                      {register, el, slider, uniqueId, fail});
})();
