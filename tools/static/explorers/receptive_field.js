/* The receptive-field explorer (chapter 5): the reader builds a stack of layers and sees, after
 * each one, the field size r, the jump j and the offset P, and the field of one unit drawn on
 * a photo.
 *
 * The recurrence is that of helpers.receptive_field, per axis. Start at the input with r = 1,
 * j = 1, P = 0. A layer with kernel k, stride s, padding p (per side) and dilation d spans
 * e = d(k - 1) + 1 units of its input, so
 *
 *     r <- r + (e - 1) j        P <- P + p j        j <- j s
 *
 * Unit i of the layer's map then sees input positions i j - P to i j - P + r - 1. In Distill's
 * article (Araujo, Norris and Sim) j is the "effective stride" and P the "effective padding".
 *
 * Mount config (helpers.plots.explorers.receptive_field_config):
 *   {layers: [{type: "conv" | "pool", kernel, stride, padding, dilation}, ...],
 *    label: "a name for that stack", input_size: side of the photo in pixels,
 *    image: "data:image/png;base64,..." (optional), image_alt: "what the photo shows"}
 *
 * Published for the tests: CnnExplorers.receptiveField = {compute, outputSize, fieldBox,
 * presets, LIMITS}.
 */
(function () {
  "use strict";

  const {el, slider, uniqueId, register} = window.CnnExplorers;

  /* Allowed values of each control (the number inputs enforce them too). */
  const LIMITS = {
    kernel: {min: 1, max: 15},
    stride: {min: 1, max: 4},
    padding: {min: 0, max: 16},
    dilation: {min: 1, max: 8},
  };
  const MAX_LAYERS = 24;
  const KIND_NAMES = {conv: "conv", pool: "pool"};   // a pool is a max pool

  // --------------------------------------------------------------------- the computation

  /* Output side of a layer on an input of side n (helpers.layers.conv_output_size):
   * floor((n + 2p - d(k - 1) - 1) / s) + 1; below 1 means the window does not fit. */
  function outputSize(n, {kernel, stride, padding, dilation}) {
    return Math.floor((n + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
  }

  function checkLayer(layer, index) {
    for (const [key, {min, max}] of Object.entries(LIMITS)) {
      const value = layer[key];
      if (!Number.isInteger(value) || value < min || value > max) {
        throw new RangeError(`layer ${index + 1}: ${key} must be an integer from ${min} to ` +
                             `${max}, got ${value}`);
      }
    }
  }

  /* The field after each layer of `layers` (from the input up). With `inputSize` (the side of
   * the input) each row also has `output`, the side of its feature map; from the first layer
   * whose window does not fit, `output` is null and `emptyAt` is that layer's index.
   * Returns {rows: [{size, jump, offset, output}], size, jump, offset, emptyAt}; with no
   * layers the field is one pixel. */
  function compute(layers, inputSize = null) {
    let size = 1;
    let jump = 1;
    let offset = 0;
    let side = inputSize;
    let emptyAt = null;
    const rows = layers.map((layer, index) => {
      checkLayer(layer, index);
      size += layer.dilation * (layer.kernel - 1) * jump;  // the kernel steps over units j apart
      offset += layer.padding * jump;                      // padding is counted in those units
      jump *= layer.stride;
      if (side !== null) {
        side = outputSize(side, layer);
        if (side < 1) {
          emptyAt = index;
          side = null;
        }
      }
      return {size, jump, offset, output: side};
    });
    return {rows, size, jump, offset, emptyAt};
  }

  /* [first, last] input position (inclusive) seen by unit `unit` of a layer with that field;
   * negative positions and positions past the image are padding. */
  function fieldBox({size, jump, offset}, unit) {
    const first = unit * jump - offset;
    return [first, first + size - 1];
  }

  function conv(kernel, stride = 1, padding = Math.floor(kernel / 2), dilation = 1) {
    return {type: "conv", kernel, stride, padding, dilation};
  }

  function pool(kernel, stride = kernel, padding = 0) {
    return {type: "pool", kernel, stride, padding, dilation: 1};
  }

  /* Stacks of the chapter to start from (the stack of the notebook's cell comes first). */
  function vgg16() {
    const stack = [];
    for (const convs of [2, 2, 3, 3, 3]) {
      for (let i = 0; i < convs; i += 1) stack.push(conv(3));
      stack.push(pool(2));
    }
    return stack;
  }

  const presets = {
    "chapter4": {
      label: "Chapter 4's small network",
      layers: () => [conv(5), pool(2), conv(3), pool(2)],
    },
    "vgg16": {label: "VGG-16 (13 convolutions 3×3, 5 pools)", layers: vgg16},
    "alexnet": {
      label: "AlexNet",
      layers: () => [conv(11, 4, 2), pool(3, 2), conv(5), pool(3, 2), conv(3), conv(3),
                     conv(3), pool(3, 2)],
    },
    "resnet-stem": {
      label: "ResNet's stem (7×7 stride 2, 3×3 pool stride 2)",
      layers: () => [conv(7, 2, 3), pool(3, 2, 1)],
    },
    "dilated": {
      label: "Dilated 3×3 convolutions, d = 1, 2, 4, 8",
      layers: () => [1, 2, 4, 8].map((d) => conv(3, 1, d, d)),
    },
  };

  // --------------------------------------------------------------------- the page

  /* A labelled number input for one value of one layer. onChange(value) runs on a valid
   * entry; onInvalid(message) on one outside LIMITS (40, 0, empty, 2.5): the explorer then
   * says so instead of silently keeping the old value. */
  function numberInput(layerIndex, key, value, onChange, onInvalid) {
    const {min, max} = LIMITS[key];
    const name = `layer ${layerIndex + 1} ${key}`;
    const input = el("input", {
      type: "number", min, max, step: 1, value, inputmode: "numeric",
      class: "cnn-rf-number", "aria-label": name,
      oninput: () => {
        const parsed = Number(input.value);
        const ok = input.value !== "" && Number.isInteger(parsed) && parsed >= min && parsed <= max;
        input.setAttribute("aria-invalid", ok ? "false" : "true");
        input.classList.toggle("cnn-rf-invalid", !ok);
        if (ok) {
          onChange(parsed);
        } else {
          const got = input.value === "" ? "nothing" : `“${input.value}”`;
          onInvalid(`The ${name} must be a whole number from ${min} to ${max}; got ${got}. ` +
            "The table and the picture show the stack without this change.");
        }
      },
    });
    return input;
  }

  function headerCell(text, title) {
    return el("th", {scope: "col"}, title ? el("abbr", {title}, text) : text);
  }

  /* Builds the explorer in `root` from `config`. The state is the list of layers and the
   * chosen unit; everything shown is recomputed from it by update(). */
  function mount(root, config) {
    const inputSize = Number.isInteger(config.input_size) ? config.input_size : 128;
    const start = (config.layers || []).map((layer) => ({...layer}));
    // the chosen unit is kept as a fraction of the last map, so it stays put as the map changes
    const state = {layers: start.map((layer) => ({...layer})), unit: {row: 0.5, column: 0.5}};
    const alt = config.image_alt || `a ${inputSize}×${inputSize} photo`;
    let photo = null;

    const table = el("table", {class: "cnn-rf-table"},
      el("caption", {}, "The stack from the input up: each layer's kernel k, stride s, padding " +
         "p and dilation d, then, after the layer, its map's side n, the field size r, the " +
         "jump j (effective stride) and the offset P (effective padding), in input pixels."),
      el("thead", {}, el("tr", {},
        headerCell("#"), headerCell("layer"), headerCell("k", "kernel"),
        headerCell("s", "stride"), headerCell("p", "padding"), headerCell("d", "dilation"),
        headerCell("n", "side of the feature map"), headerCell("r", "field size"),
        headerCell("j", "jump (effective stride)"),
        headerCell("P", "offset (effective padding)"), headerCell("", "remove"))));
    const body = el("tbody");
    table.append(body);

    const presetId = uniqueId("rf-preset");
    // Choosing a stack loads it at once, and editing the table selects "your own stack": the
    // dropdown never names a stack other than the one the table shows.
    const presetSelect = el("select", {id: presetId, onchange: () => loadPreset(presetSelect.value)},
      el("option", {value: "start"}, config.label || "The chapter's stack"),
      Object.entries(presets).map(([key, preset]) => el("option", {value: key}, preset.label)),
      el("option", {value: "custom", disabled: true}, "Your own stack (edited)"));
    const presetRow = el("div", {class: "cnn-rf-controls"},
      el("label", {for: presetId}, "Stack"), presetSelect);
    const error = el("p", {class: "cnn-rf-error", role: "alert"});
    function showError(message) {
      error.textContent = message;
    }
    function edited() {
      presetSelect.value = "custom";
    }

    const addConv = el("button", {type: "button", onclick: () => addLayer(conv(3))},
                       "Add a 3×3 convolution");
    const addPool = el("button", {type: "button", onclick: () => addLayer(pool(2))},
                       "Add a 2×2 pool");
    const addRow = el("div", {class: "cnn-rf-controls"}, addConv, addPool);

    const unitSlider = (axis) => slider(`Unit's ${axis}`, {
      min: 0, max: 0, value: 0,
      onChange: (value) => {
        const side = lastSide();
        state.unit[axis] = side > 1 ? value / (side - 1) : 0.5;
        update();
      },
    });
    const sliders = {row: unitSlider("row"), column: unitSlider("column")};
    const canvas = el("canvas", {class: "cnn-rf-canvas", width: 720, height: 720, role: "img"});
    const summary = el("p", {class: "cnn-rf-summary", "aria-live": "polite"});
    const fieldNote = el("p", {class: "cnn-rf-field-note"});
    let hovered = null;           // the table row (layer index) the pointer or focus is on
    let view = {};                // the last drawing: its map from canvas pixels to the input

    // two columns where there is room: the stack on the left, the photo on the right
    root.append(presetRow,
      el("div", {class: "cnn-rf-layout"},
        el("div", {class: "cnn-rf-stack"}, el("div", {class: "cnn-rf-scroll"}, table), error,
           addRow),
        el("div", {class: "cnn-rf-figure"}, canvas, fieldNote, sliders.row.node,
           sliders.column.node)),
      summary);

    if (config.image) {
      const image = new Image();
      image.onload = () => {
        photo = image;
        update();
      };
      image.src = config.image;
    }

    /* The side of the last map (the input's with no layers), or 0 when a window does not fit. */
    function lastSide() {
      const result = compute(state.layers, inputSize);
      if (result.emptyAt !== null) return 0;
      return state.layers.length ? result.rows[result.rows.length - 1].output : inputSize;
    }

    function loadPreset(key) {
      const layers = key === "start" ? start : presets[key].layers();
      state.layers = layers.map((layer) => ({...layer}));
      state.unit = {row: 0.5, column: 0.5};
      presetSelect.value = key;
      showError("");
      rebuild();
    }

    function addLayer(layer) {
      if (state.layers.length >= MAX_LAYERS) return;
      state.layers.push(layer);
      edited();
      rebuild();
      body.lastElementChild.querySelector("input").focus();
    }

    function removeLayer(index) {
      state.layers.splice(index, 1);
      edited();
      rebuild();
      // keep the keyboard where it was: the next row's remove button, else "add"
      const buttons = body.querySelectorAll("button");
      (buttons[Math.min(index, buttons.length - 1)] || addConv).focus();
    }

    /* One table row per layer (the inputs are created here, so this runs only when layers
     * are added or removed; a changed value only updates the numbers, keeping the focus). */
    function rebuild() {
      body.replaceChildren(el("tr", {class: "cnn-rf-input-row"},
        el("th", {scope: "row"}, "0"), el("td", {colspan: 5}, "input"),
        el("td", {class: "cnn-rf-n"}), el("td", {class: "cnn-rf-r"}),
        el("td", {class: "cnn-rf-j"}), el("td", {class: "cnn-rf-P"}), el("td")));
      state.layers.forEach((layer, index) => {
        const cell = (key) => el("td", {}, numberInput(index, key, layer[key], (value) => {
          if (layer[key] !== value) edited();
          layer[key] = value;
          showError(body.querySelector("[aria-invalid=true]") ? error.textContent : "");
          update();
        }, showError));
        const hover = (on) => () => {
          const next = on ? index : null;
          if (hovered !== next) {
            hovered = next;
            update();
          }
        };
        body.append(el("tr", {onpointerenter: hover(true), onpointerleave: hover(false),
                              onfocusin: hover(true), onfocusout: hover(false)},
          el("th", {scope: "row"}, index + 1), el("td", {}, KIND_NAMES[layer.type] || layer.type),
          cell("kernel"), cell("stride"), cell("padding"), cell("dilation"),
          el("td", {class: "cnn-rf-n"}), el("td", {class: "cnn-rf-r"}),
          el("td", {class: "cnn-rf-j"}), el("td", {class: "cnn-rf-P"}),
          el("td", {}, el("button", {
            type: "button", class: "cnn-rf-remove", "aria-label": `remove layer ${index + 1}`,
            onclick: () => removeLayer(index),
          }, "✕"))));
      });
      addConv.disabled = addPool.disabled = state.layers.length >= MAX_LAYERS;
      update();
    }

    /* Numbers in the table, the unit slider, the drawing and the spoken summary. */
    function update() {
      const result = compute(state.layers, inputSize);
      const rows = [{size: 1, jump: 1, offset: 0, output: inputSize}, ...result.rows];
      body.querySelectorAll("tr").forEach((tr, i) => {
        const row = rows[i];
        tr.querySelector(".cnn-rf-n").textContent = row.output === null ? "–" : row.output;
        tr.querySelector(".cnn-rf-r").textContent = row.size;
        tr.querySelector(".cnn-rf-j").textContent = row.jump;
        tr.querySelector(".cnn-rf-P").textContent = row.offset;
        tr.classList.toggle("cnn-rf-empty", row.output === null);
      });
      const last = rows[rows.length - 1];
      const side = lastSide();
      const chosen = {};
      for (const axis of ["row", "column"]) {
        const {node, input} = sliders[axis];
        chosen[axis] = Math.round(state.unit[axis] * Math.max(side - 1, 0));
        input.max = Math.max(side - 1, 0);
        input.value = chosen[axis];
        input.disabled = side === 0;
        node.querySelector("output").textContent = chosen[axis];
      }
      const rowsSeen = fieldBox(last, chosen.row);
      const columnsSeen = fieldBox(last, chosen.column);
      // the hovered (or focused) layer's field around the same place, nested inside
      let inner = null;
      if (side > 0 && hovered !== null && hovered < state.layers.length) {
        const layer = result.rows[hovered];
        const centre = (axisSeen) => (axisSeen[0] + axisSeen[1]) / 2;
        const unitAt = (c) => Math.min(Math.max(Math.round(
          (c + layer.offset - (layer.size - 1) / 2) / layer.jump), 0), layer.output - 1);
        inner = {layer: hovered, rows: fieldBox(layer, unitAt(centre(rowsSeen))),
                 columns: fieldBox(layer, unitAt(centre(columnsSeen)))};
      }
      view = {result, last, side};
      draw(rowsSeen, columnsSeen, side > 0, inner);
      summary.textContent = describe(result, last, side, chosen, rowsSeen, columnsSeen);
    }

    function describe(result, last, side, chosen, rowsSeen, columnsSeen) {
      const n = state.layers.length;
      const where = n ? `After layer ${n}` : "At the input";
      const field = `${where} a unit sees ${last.size}×${last.size} pixels; jump ${last.jump}, ` +
                    `offset ${last.offset}.`;
      if (result.emptyAt !== null) {
        return `${field} Layer ${result.emptyAt + 1}'s window does not fit in its input ` +
               `(with its padding): there is no feature map after it.`;
      }
      const outside = [...rowsSeen, ...columnsSeen].some((x) => x < 0 || x >= inputSize);
      return `${field} Unit (${chosen.row}, ${chosen.column}) of the ${side}×${side} map sees ` +
             `rows ${rowsSeen[0]} to ${rowsSeen[1]} and columns ${columnsSeen[0]} to ` +
             `${columnsSeen[1]} of the ${inputSize}×${inputSize} photo` +
             (outside ? ` (outside 0 to ${inputSize - 1}: padding).` : ".");
    }

    /* The photo inside a view wide enough for the field; the field is a square outline, the
     * padding around the photo is hatched; `inner` ({layer, rows, columns}) is a hovered
     * layer's field, drawn in blue inside it. */
    function draw([top, bottom], [left, right], ok, inner = null) {
      const ctx = canvas.getContext("2d");
      const low = Math.min(0, top, left);
      const high = Math.max(inputSize, bottom + 1, right + 1);
      const margin = Math.max(2, Math.round((high - low) * 0.04));
      const viewStart = low - margin;
      const scale = canvas.width / (high - low + 2 * margin);
      const at = (position) => (position - viewStart) * scale;
      view.toInput = (px) => px / scale + viewStart;
      ctx.fillStyle = "#e8e8e8";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.strokeStyle = "#c4c4c4";
      ctx.lineWidth = 1;
      for (let x = -canvas.width; x < canvas.width; x += 12) {   // hatching: the padding
        ctx.beginPath();
        ctx.moveTo(x, canvas.height);
        ctx.lineTo(x + canvas.width, 0);
        ctx.stroke();
      }
      const side = inputSize * scale;
      ctx.imageSmoothingEnabled = false;
      if (photo) {
        ctx.drawImage(photo, at(0), at(0), side, side);
      } else {
        ctx.fillStyle = "#9a9a9a";
        ctx.fillRect(at(0), at(0), side, side);
      }
      ctx.strokeStyle = "#000000";
      ctx.strokeRect(at(0), at(0), side, side);
      if (!ok) {
        canvas.setAttribute("aria-label", `${alt}, with no feature map to show a field of`);
        return;
      }
      const width = (right + 1 - left) * scale;
      const height = (bottom + 1 - top) * scale;
      ctx.fillStyle = "rgba(214, 39, 40, 0.18)";
      ctx.fillRect(at(left), at(top), width, height);
      ctx.lineWidth = Math.max(3, canvas.width / 180);
      ctx.strokeStyle = "#d62728";
      ctx.strokeRect(at(left), at(top), width, height);
      let label = `${alt}, with a red square over rows ${top} to ${bottom} and columns ` +
        `${left} to ${right}: the chosen unit's field`;
      if (inner) {
        const [t, b] = inner.rows;
        const [l, r] = inner.columns;
        ctx.setLineDash([Math.max(6, canvas.width / 60), Math.max(4, canvas.width / 90)]);
        ctx.strokeStyle = "#1f77b4";
        ctx.strokeRect(at(l), at(t), (r + 1 - l) * scale, (b + 1 - t) * scale);
        ctx.setLineDash([]);
        label += `; in blue, the field of a unit of layer ${inner.layer + 1} there: rows ${t} ` +
          `to ${b}, columns ${l} to ${r}`;
        fieldNote.textContent = `Blue, dashed: the ${b + 1 - t}×${r + 1 - l} field of a ` +
          `unit of layer ${inner.layer + 1} at the same place.`;
      } else {
        fieldNote.textContent = "Point at a layer of the table to see its field inside " +
          "this one; click the photo to choose a unit.";
      }
      canvas.setAttribute("aria-label", label);
    }

    /* Click (or tap) the photo: the unit of the last map whose field is centred nearest. */
    canvas.addEventListener("click", (event) => {
      if (!view.side || !view.toInput) return;
      const rect = canvas.getBoundingClientRect();
      const toCanvas = canvas.width / rect.width;
      const x = view.toInput((event.clientX - rect.left) * toCanvas);
      const y = view.toInput((event.clientY - rect.top) * toCanvas);
      const {last, side} = view;
      const unit = (c) => Math.min(Math.max(Math.round(
        (c + last.offset - (last.size - 1) / 2) / last.jump), 0), side - 1);
      state.unit = {row: side > 1 ? unit(y) / (side - 1) : 0.5,
                    column: side > 1 ? unit(x) / (side - 1) : 0.5};
      update();
    });

    rebuild();
  }

  window.CnnExplorers.receptiveField = {compute, outputSize, fieldBox, presets, LIMITS};
  register("receptive-field", mount);
})();
