/* Convolution arithmetic, live (registered as "conv-arithmetic"; see common.js).
 *
 * Five sliders -- input size n, kernel size k, stride s, padding p, dilation d -- and a picture
 * in the manner of Dumoulin & Visin's convolution-arithmetic animations: the padded n x n input
 * (padding grey, cells no window reads hatched), the k x k window (its taps spread d apart)
 * at one output position, and the output grid filling in as the window slides. Play/Pause and
 * step buttons move the window; with the picture focused, the arrow keys step it too. Above the
 * picture the output-size formula is written out with the numbers substituted:
 *
 *   H' = floor((n + 2p - d(k - 1) - 1) / s) + 1
 *
 * The cells carry numbers: chapter 2's worked example (its 5x5 input x and 3x3 kernel w, or
 * the config's "input" and "kernel" when given), tiled to other sizes (x[i mod 5][j mod 5]; a
 * k x k kernel of +1, 0, -1 columns like w). Each output cell shows its value once the window
 * has passed, and under the picture the current multiply-add is written out:
 * y(0, 1) = 0·1 + 0·0 + 0·(−1) + ... = 4. (Numbers are hidden when cells are too small to
 * read them on screen.)
 *
 * The pure functions are published on CnnExplorers.convArithmetic so the browser tests can
 * compare them with helpers.layers.conv_output_size and helpers.plots.explorers:
 *
 *   outputSize(n, k, s, p, d)   -> H', or null when no window fits (Python raises ValueError)
 *   windowCells(i, k, s, d)     -> padded-input cells read by output i along one axis
 *   windows(n, k, s, p, d)      -> windowCells for every output position (empty if none)
 *   readCells(n, k, s, p, d)    -> the padded-input cells some window reads, ascending
 *   formula(n, k, s, p, d)      -> "⌊(5 + 2·1 − 1·(3 − 1) − 1)/1⌋ + 1 = ⌊4/1⌋ + 1 = 5"
 *   noOutputReason(n, k, p, d)  -> the sentence shown when there is no output
 *   values(n, k, config)        -> {input: n x n, kernel: k x k} the numbers shown
 *   convolve(x, w, s, p, d)     -> the output (cross-correlation, as helpers.layers.conv2d_naive)
 */
(function () {
  "use strict";

  const {el, slider, uniqueId, register} = window.CnnExplorers;

  // The controls: config key (as in helpers.plots.explorers.conv_explorer), label, default
  // range (the config's "limits" may replace it) and default value.
  const CONTROLS = [
    {key: "n", label: "input size n", range: [1, 24], value: 5},
    {key: "kernel_size", label: "kernel size k", range: [1, 9], value: 3},
    {key: "stride", label: "stride s", range: [1, 5], value: 1},
    {key: "padding", label: "padding p", range: [0, 4], value: 1},
    {key: "dilation", label: "dilation d", range: [1, 4], value: 1},
  ];
  const GENERAL_FORMULA = "H′ = ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1";
  const STEP_MS = 700;          // one window position per STEP_MS while playing
  const CELL = 20;              // side of one cell in SVG units
  const GAP = 2 * CELL;         // between the input and the output grid
  const MIN_AREA = 7 * CELL;    // a grid's caption needs this much width
  const MAX_WIDTH_PX = 720;     // the picture's widest on screen
  const STACK_BELOW_PX = 560;   // on a narrower column the output goes below the input
  const FONT_PX = 13;           // the captions' size on screen
  const MIN_NUMBER_PX = 16;     // a cell shows its number from this size on screen
  const MAX_TERMS = 25;         // the multiply-add is written out up to 5x5 kernels
  const COLOURS = {
    input: "#dbe9f6", padding: "#eeeeee", line: "#555555", tap: "#d62728",
    done: "#b5dfb0", current: "#2ca02c", pending: "#ffffff",
  };
  const SVG_NS = "http://www.w3.org/2000/svg";

  // ------------------------------------------------------------------------ pure functions

  /* Throw a RangeError unless n, k, s, d are positive integers and p a non-negative one (the
   * same arguments helpers.layers.conv_output_size rejects with a ValueError). */
  function checkArguments(n, k, s, p, d) {
    for (const [name, value] of [["n", n], ["kernel_size", k], ["stride", s], ["dilation", d]]) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`${name} must be a positive integer, got ${value}`);
      }
    }
    if (!Number.isInteger(p) || p < 0) {
      throw new RangeError(`padding must be an integer >= 0, got ${p}`);
    }
  }

  /* The floor division of the formula, before the "+ 1": can be negative. */
  function numerator(n, k, p, d) {
    return n + 2 * p - d * (k - 1) - 1;
  }

  /* Output length along one axis, or null when the dilated kernel does not fit. */
  function outputSize(n, k, s = 1, p = 0, d = 1) {
    checkArguments(n, k, s, p, d);
    const out = Math.floor(numerator(n, k, p, d) / s) + 1;
    return out >= 1 ? out : null;
  }

  /* Padded-input positions read by output i (helpers.plots.explorers._window_cells). */
  function windowCells(i, k, s, d) {
    return Array.from({length: k}, (_, t) => i * s + t * d);
  }

  function windows(n, k, s = 1, p = 0, d = 1) {
    const out = outputSize(n, k, s, p, d);
    return out === null ? [] : Array.from({length: out}, (_, i) => windowCells(i, k, s, d));
  }

  function readCells(n, k, s = 1, p = 0, d = 1) {
    return [...new Set(windows(n, k, s, p, d).flat())].sort((a, b) => a - b);
  }

  /* An integer as the formula prints it: a true minus sign for negative numbers. */
  function signed(value) {
    return value < 0 ? `−${-value}` : String(value);
  }

  /* The formula with the numbers substituted, down to the output size (which may be < 1). The
   * same string as helpers.plots.explorers._conv_formula. */
  function formula(n, k, s = 1, p = 0, d = 1) {
    checkArguments(n, k, s, p, d);
    const top = numerator(n, k, p, d);
    return `⌊(${n} + 2·${p} − ${d}·(${k} − 1) − 1)/${s}⌋ + 1 = ⌊${signed(top)}/${s}⌋ + 1 = `
      + signed(Math.floor(top / s) + 1);
  }

  // Chapter 2's worked example: x (5x5) and w (3x3, a vertical-edge detector).
  const WORKED_INPUT = [[3, 1, 0, 2, 1], [2, 4, 1, 0, 3], [1, 2, 5, 1, 0], [0, 1, 2, 4, 2],
                        [2, 0, 1, 3, 5]];
  const WORKED_KERNEL = [[1, 0, -1], [1, 0, -1], [1, 0, -1]];

  /* The numbers in the cells for an n x n input and a k x k kernel: the config's own input
   * and kernel when their sizes match, else the worked example's, tiled; a kernel of another
   * size has +1 columns left of the centre, 0 in the centre column, -1 right of it. */
  function values(n, k, config = {}) {
    const given = (grid, side) => Array.isArray(grid) && grid.length === side
      && grid.every((row) => Array.isArray(row) && row.length === side
                    && row.every(Number.isFinite));
    const source = given(config.input, n) ? config.input : null;
    const input = Array.from({length: n}, (_, i) => Array.from({length: n}, (_, j) =>
      (source ? source[i][j] : WORKED_INPUT[i % 5][j % 5])));
    let kernel = given(config.kernel, k) ? config.kernel : null;
    if (!kernel) {
      const centre = (k - 1) / 2;
      kernel = k === 3 ? WORKED_KERNEL : Array.from({length: k}, () =>
        Array.from({length: k}, (_, v) => (v < centre ? 1 : v > centre ? -1 : 0)));
    }
    return {input, kernel: kernel.map((row) => [...row])};
  }

  /* The value of padded-input cell (r, c): zero in the padding. */
  function paddedValue(x, p, r, c) {
    const n = x.length;
    const i = r - p;
    const j = c - p;
    return i >= 0 && i < n && j >= 0 && j < n ? x[i][j] : 0;
  }

  /* The output of correlating x (n x n) with w (k x k): stride s, zero padding p, dilation d. */
  function convolve(x, w, s = 1, p = 0, d = 1) {
    const n = x.length;
    const k = w.length;
    const out = outputSize(n, k, s, p, d) || 0;
    return Array.from({length: out}, (_, i) => Array.from({length: out}, (_, j) => {
      let sum = 0;
      for (let u = 0; u < k; u += 1) {
        for (let v = 0; v < k; v += 1) sum += w[u][v] * paddedValue(x, p, i * s + u * d, j * s + v * d);
      }
      return sum;
    }));
  }

  /* Why there is no output (helpers.plots.explorers._no_output_reason). */
  function noOutputReason(n, k, p, d) {
    return `No output: the window spans d(k − 1) + 1 = ${d * (k - 1) + 1} cells, more than `
      + `the n + 2p = ${n + 2 * p} cells of the padded input.`;
  }

  // ------------------------------------------------------------------------ drawing

  /* svg("rect", {x: 0, ...}, child, ...) -> an SVG element (el() makes HTML elements). */
  function svg(tag, attributes, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      node.setAttribute(key, String(value));
    }
    node.append(...children);
    return node;
  }

  /* A hatch pattern (cells never read) with a unique id; returns {defs, url}. */
  function hatchPattern() {
    const id = uniqueId("hatch");
    const pattern = svg("pattern", {id, width: 6, height: 6, patternUnits: "userSpaceOnUse",
                                    patternTransform: "rotate(45)"},
                        svg("line", {x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#999999",
                                     "stroke-width": 1.5}));
    return {defs: svg("defs", {}, pattern), url: `url(#${id})`};
  }

  /* A grid of side x side cells with its top-left corner at {x, y}: returns
   * {group, cells[row][col]}. fill(row, col) gives each cell's attributes. */
  function grid(side, {x: x0, y: y0}, kind, fill) {
    const group = svg("g", {class: `cnn-conv-${kind}`});
    const cells = [];
    for (let row = 0; row < side; row += 1) {
      cells.push([]);
      for (let col = 0; col < side; col += 1) {
        const cell = svg("rect", {x: x0 + col * CELL, y: y0 + row * CELL, width: CELL,
                                  height: CELL, "data-row": row, "data-col": col,
                                  stroke: COLOURS.line, "stroke-width": 0.75,
                                  ...fill(row, col)});
        cells[row].push(cell);
        group.append(cell);
      }
    }
    return {group, cells};
  }

  /* Where the two grids go: side by side, or on a column narrower than STACK_BELOW_PX the
   * output below the input. Sizes are in SVG units; the captions' font is scaled so that it
   * shows at FONT_PX on a column columnPx wide. */
  function layout(width, out, columnPx) {
    const column = columnPx || MAX_WIDTH_PX;        // 0 while the page is not laid out
    const stacked = column < STACK_BELOW_PX;
    const inputArea = Math.max(width * CELL, MIN_AREA);
    const outputArea = Math.max(out * CELL, MIN_AREA);
    const total = stacked ? Math.max(inputArea, outputArea) : inputArea + GAP + outputArea;
    // As wide as the column allows, but no cell above 1.5 times its SVG size.
    const shownPx = Math.min(column, MAX_WIDTH_PX, 1.5 * total);
    const font = FONT_PX * total / shownPx;
    const label = font + 6;
    const inputAt = {x: 0, y: label};
    const outputAt = stacked ? {x: 0, y: label + width * CELL + GAP / 2 + label}
      : {x: inputArea + GAP, y: label};
    const height = Math.max(inputAt.y + width * CELL, outputAt.y + out * CELL) + 2;
    return {inputAt, outputAt, total, height, font, shownPx};
  }

  /* The whole picture for one setting on a column columnPx wide (no window placed yet):
   * returns the SVG and the handles that drawStep() changes. */
  function picture(state, columnPx) {
    const {n, kernel_size: k, stride: s, padding: p, dilation: d} = state.values;
    const width = n + 2 * p;
    const out = outputSize(n, k, s, p, d) || 0;
    const at = layout(width, out, columnPx);
    const read = new Set(readCells(n, k, s, p, d));
    const hatch = hatchPattern();
    const isPadding = (i) => i < p || i >= p + n;
    const input = grid(width, at.inputAt, "input", (row, col) => {
      const pad = isPadding(row) || isPadding(col);
      const attributes = {fill: pad ? COLOURS.padding : COLOURS.input,
                          class: pad ? "cnn-conv-pad" : "cnn-conv-in"};
      if (pad) attributes["stroke-dasharray"] = "2 2";
      return attributes;
    });
    // Cells no window reads: a hatched layer on top of the cell's own colour.
    const unread = svg("g", {class: "cnn-conv-unread"});
    for (let row = 0; row < width; row += 1) {
      for (let col = 0; col < width; col += 1) {
        if (read.has(row) && read.has(col)) continue;
        unread.append(svg("rect", {x: at.inputAt.x + col * CELL, y: at.inputAt.y + row * CELL,
                                   width: CELL, height: CELL, fill: hatch.url}));
      }
    }
    const output = grid(out, at.outputAt, "output", () => ({fill: COLOURS.pending}));
    // The numbers, where a cell is big enough on screen to read one (at least MIN_NUMBER_PX).
    const cellPx = CELL * at.shownPx / at.total;
    const numbered = cellPx >= MIN_NUMBER_PX;
    const number = (x, y, text) => svg("text", {
      x: x + CELL / 2, y: y + CELL / 2, "text-anchor": "middle", "dominant-baseline": "central",
      "font-size": (Math.min(0.55 * CELL, FONT_PX * CELL / cellPx)).toFixed(1),
      "font-family": "sans-serif", class: "cnn-conv-number", "pointer-events": "none"}, text);
    const inputNumbers = svg("g", {class: "cnn-conv-input-numbers"});
    const outputNumbers = [];
    const outputGroup = svg("g", {class: "cnn-conv-output-numbers"});
    if (numbered) {
      for (let row = 0; row < width; row += 1) {
        for (let col = 0; col < width; col += 1) {
          inputNumbers.append(number(at.inputAt.x + col * CELL, at.inputAt.y + row * CELL,
            signed(paddedValue(state.numbers.input, p, row, col))));
        }
      }
      for (let row = 0; row < out; row += 1) {
        outputNumbers.push([]);
        for (let col = 0; col < out; col += 1) {
          const text = number(at.outputAt.x + col * CELL, at.outputAt.y + row * CELL, "");
          outputNumbers[row].push(text);
          outputGroup.append(text);
        }
      }
    }
    const taps = svg("g", {class: "cnn-conv-taps"});
    const outline = svg("rect", {fill: "none", stroke: COLOURS.tap, "stroke-width": 2.5,
                                 class: "cnn-conv-window"});
    const caption = (where, text) => svg("text", {x: where.x, y: where.y - 5,
                                                  "font-size": at.font.toFixed(1),
                                                  "font-family": "sans-serif",
                                                  fill: "currentColor"}, text);
    const root = svg("svg", {viewBox: `-1 0 ${at.total + 2} ${at.height}`, role: "img",
                             tabindex: 0, class: "cnn-conv-picture",
                             style: `width: 100%; max-width: ${Math.round(at.shownPx)}px; `
                               + "height: auto;"},
                     hatch.defs, caption(at.inputAt, `padded input ${width}×${width}`),
                     caption(at.outputAt, out ? `output ${out}×${out}` : "no output"),
                     input.group, unread, output.group, outline, taps, inputNumbers,
                     outputGroup);
    return {root, output: output.cells, taps, outline, out, inputAt: at.inputAt, outputNumbers,
            numbered};
  }

  /* Place the window at output (step // H', step % H') and colour the output grid. */
  function drawStep(state) {
    const view = state.view;
    const {kernel_size: k, stride: s, dilation: d} = state.values;
    const out = view.out;
    view.taps.replaceChildren();
    if (!out) {
      view.outline.setAttribute("visibility", "hidden");
      return;
    }
    const i = Math.floor(state.step / out);
    const j = state.step % out;
    const rows = windowCells(i, k, s, d);
    const cols = windowCells(j, k, s, d);
    for (const row of rows) {
      for (const col of cols) {
        view.taps.append(svg("rect", {x: view.inputAt.x + col * CELL + 3,
                                      y: view.inputAt.y + row * CELL + 3,
                                      width: CELL - 6, height: CELL - 6, fill: COLOURS.tap,
                                      "fill-opacity": view.numbered ? 0.4 : 0.75,
                                      "data-row": row, "data-col": col}));
      }
    }
    const span = d * (k - 1) + 1;
    Object.entries({x: view.inputAt.x + cols[0] * CELL, y: view.inputAt.y + rows[0] * CELL,
                    width: span * CELL, height: span * CELL, visibility: "visible"})
      .forEach(([key, value]) => view.outline.setAttribute(key, value));
    view.output.forEach((line, r) => line.forEach((cell, c) => {
      const index = r * out + c;
      const status = index < state.step ? "done" : index === state.step ? "current" : "pending";
      cell.setAttribute("fill", COLOURS[status]);
      cell.setAttribute("class", `cnn-conv-${status}`);
      const text = view.outputNumbers[r] && view.outputNumbers[r][c];
      if (text) text.textContent = status === "pending" ? "" : signed(state.result[r][c]);
    }));
  }

  /* "rows 0–2" for consecutive cells, "rows 0, 2, 4" for dilated ones. */
  function cellList(cells) {
    const consecutive = cells.every((c, t) => t === 0 || c === cells[t - 1] + 1);
    return consecutive && cells.length > 1 ? `${cells[0]}–${cells[cells.length - 1]}`
      : cells.join(", ");
  }

  // ------------------------------------------------------------------------ the explorer

  function mount(root, config) {
    const limits = config.limits || {};
    const state = {values: {}, step: 0, timer: null, view: null, columnPx: 0,
                   numbers: null, result: []};
    const bounds = {};
    for (const control of CONTROLS) {
      const value = Number.isInteger(config[control.key]) ? config[control.key] : control.value;
      const [lo, hi] = limits[control.key] || control.range;
      state.values[control.key] = value;
      bounds[control.key] = [Math.min(lo, value), Math.max(hi, value)];
    }

    const formulaLine = el("p", {class: "cnn-conv-formula", "aria-live": "polite"});
    const status = el("p", {class: "cnn-conv-status", "aria-live": "polite"});
    const sum = el("p", {class: "cnn-conv-sum"});
    const figure = el("div", {class: "cnn-conv-figure"});
    const back = el("button", {type: "button", onclick: () => move(-1)}, "◀ Step back");
    const play = el("button", {type: "button", class: "cnn-conv-play", onclick: toggle},
                    "▶ Play");
    const forward = el("button", {type: "button", onclick: () => move(1)}, "Step forward ▶");
    const sliders = CONTROLS.map((control) => slider(control.label, {
      min: bounds[control.key][0], max: bounds[control.key][1], value: state.values[control.key],
      onChange: (value) => {
        state.values[control.key] = value;
        rebuild();
      },
    }).node);

    function positions() {
      const out = state.view.out;
      return out * out;
    }

    /* Move the window by delta positions (wrapping round), then redraw. */
    function move(delta) {
      const count = positions();
      if (!count) return;
      state.step = (state.step + delta + count) % count;
      update();
    }

    function stop() {
      clearInterval(state.timer);
      state.timer = null;
      play.textContent = "▶ Play";
      status.setAttribute("aria-live", "polite");
    }

    function toggle() {
      if (state.timer !== null) {
        stop();
        return;
      }
      if (!positions()) return;
      state.timer = setInterval(() => move(1), STEP_MS);
      play.textContent = "❚❚ Pause";
      status.setAttribute("aria-live", "off");    // no announcement per frame while playing
    }

    /* Draw the picture for the column's present width, the window where it was. */
    function redraw() {
      const focused = state.view !== null && document.activeElement === state.view.root;
      state.columnPx = figure.clientWidth;
      state.view = picture(state, state.columnPx);
      state.view.root.addEventListener("keydown", onKey);
      figure.replaceChildren(state.view.root);
      if (focused) state.view.root.focus();
      update();
    }

    /* New settings: new picture, window back at the first position, formula rewritten. */
    function rebuild() {
      const {n, kernel_size: k, stride: s, padding: p, dilation: d} = state.values;
      state.step = 0;
      state.numbers = values(n, k, config);
      state.result = convolve(state.numbers.input, state.numbers.kernel, s, p, d);
      redraw();
      const out = state.view.out;
      const line = {style: "display: block"};
      formulaLine.replaceChildren(
        el("span", {...line, class: "cnn-conv-general"}, GENERAL_FORMULA),
        el("span", line, "= ", el("span", {class: "cnn-conv-substituted"}, formula(n, k, s, p, d)),
           out ? ` → output ${out}×${out}` : ""),
        out ? "" : el("strong", line, noOutputReason(n, k, p, d)));
      if (!out) stop();
      [back, play, forward].forEach((button) => { button.disabled = !out; });
    }

    function update() {
      drawStep(state);
      const {n, kernel_size: k, stride: s, padding: p, dilation: d} = state.values;
      const out = state.view.out;
      const size = n + 2 * p;
      let text = `No window position: the ${d * (k - 1) + 1}-cell window does not fit in `
        + `the ${size}×${size} padded input.`;
      if (out) {
        const i = Math.floor(state.step / out);
        const j = state.step % out;
        text = `Output (${i}, ${j}), position ${state.step + 1} of ${out * out}: the window `
          + `reads padded rows ${cellList(windowCells(i, k, s, d))} and columns `
          + `${cellList(windowCells(j, k, s, d))}.`;
        sum.textContent = multiplyAdd(i, j);
      } else {
        sum.textContent = "";
      }
      status.textContent = text;
      state.view.root.setAttribute("aria-label", `Padded ${size}×${size} input, `
        + (out ? `${out}×${out} output. ${text} Arrow keys move the window; up and down move one row.` : "no output."));
    }

    /* The current output's multiply-add written out: "y(0, 1) = 3·1 + 1·0 + ... = 4". */
    function multiplyAdd(i, j) {
      const {kernel_size: k, stride: s, padding: p, dilation: d} = state.values;
      const {input, kernel} = state.numbers;
      const value = signed(state.result[i][j]);
      if (k * k > MAX_TERMS) return `y(${i}, ${j}) = the sum of ${k * k} products = ${value}`;
      const wrap = (v) => (v < 0 ? `(${signed(v)})` : String(v));
      const terms = [];
      for (let u = 0; u < k; u += 1) {
        for (let v = 0; v < k; v += 1) {
          terms.push(`${wrap(kernel[u][v])}·${wrap(paddedValue(input, p, i * s + u * d,
                                                                 j * s + v * d))}`);
        }
      }
      return `y(${i}, ${j}) = ${terms.join(" + ")} = ${value}`;
    }

    /* Arrow keys move the window while the picture has the focus: left/right one position,
     * up/down one row of positions; space plays/pauses. */
    function onKey(event) {
      const row = state.view.out;   // one row of output positions
      const keys = {ArrowRight: () => move(1), ArrowDown: () => move(row),
                    ArrowLeft: () => move(-1), ArrowUp: () => move(-row), " ": toggle};
      if (!keys[event.key]) return;
      event.preventDefault();
      keys[event.key]();
    }

    root.append(
      el("div", {class: "cnn-conv-controls"}, sliders),
      el("div", {class: "cnn-conv-buttons", role: "group", "aria-label": "window position",
                 style: "margin: 0.5rem 0"},
         back, " ", play, " ", forward),
      formulaLine, figure, sum, status);
    rebuild();
    // The column narrows or widens (window resized, phone turned): lay the picture out again.
    if (typeof ResizeObserver === "function") {
      new ResizeObserver(() => {
        if (figure.clientWidth !== state.columnPx) redraw();
      }).observe(figure);
    }
  }

  window.CnnExplorers.convArithmetic = {outputSize, windowCells, windows, readCells, formula,
                                        noOutputReason, GENERAL_FORMULA, values, convolve};
  register("conv-arithmetic", mount);
})();
