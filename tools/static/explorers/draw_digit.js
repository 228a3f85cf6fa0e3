/* Draw a digit (chapter 6): the reader draws on a canvas, and the chapter's LeNet-5 reads it,
 * in the page, with no kernel.
 *
 * The drawing goes through the preprocessing that made MNIST (helpers.digits.preprocess_digit,
 * the same algorithm in Python): crop to the ink, fit in 20x20 keeping the aspect ratio (area
 * averaging), paste into 28x28 with the centre of mass at the centre, normalise. LeNet-5 then
 * runs forward exactly as helpers.models.lenet5(input_size=28) at inference: conv 5x5 (padding
 * 2), tanh, 2x2 average pool, conv 5x5, tanh, 2x2 average pool, three linear layers with tanh
 * between them. Its weights come from _static/explorers/lenet5_mnist.js, written by
 * `python -m tools.export_lenet` from a run of the chapter's recipe; so does the normalisation
 * (the asset's `normalisation`, helpers.data.MNIST_NORM), which is stated nowhere else here.
 * That file is a script that stores the JSON document in window.CNN_COURSE_WEIGHTS: it is
 * loaded with a <script> element, which works on a page opened from disk (file://), where
 * browsers refuse fetch(). It is loaded only on a page with this explorer.
 *
 * The page shows the 28x28 input, C1's 6 and C3's 16 feature maps (after tanh; red positive,
 * blue negative) and the ten class probabilities. Beside the input, the gradient saliency map
 * (Simonyan et al., 2014): |d logit / d input| of the winning class, by a hand-written
 * backward pass through the same layers (one pass per drawing), scaled to its maximum, in
 * viridis, with the ink's outline over it. Keyboard readers load MNIST test digits with
 * buttons. Pure functions are published on CnnExplorers.drawDigit: preprocess, decodeWeights,
 * forward, saliency, softmax.
 */
(function () {
  "use strict";

  const SIDE = 28;                           // MNIST's image side
  const BOX = 20;                            // each digit is scaled to fit BOX x BOX
  const CANVAS = 280;                        // the drawing canvas, in its own pixels
  const PEN = 20;                            // stroke width on that canvas
  // The directory of this script (_static/explorers/): the weights file sits beside it.
  const SCRIPT_URL = document.currentScript ? document.currentScript.src : "";

  /* ------------------------------------------------------------------ preprocessing */

  /* Nearest integer, halves up (Python side: helpers.digits._round_half_up). */
  function roundHalfUp(x) {
    return Math.floor(x + 0.5);
  }

  /* Area-averaging weights along one axis: output pixel i averages the input over
   * [i, i + 1) * nIn / nOut, each input pixel weighted by its overlap. Returns, per output
   * pixel, {start, weights}. */
  function areaWeights(nIn, nOut) {
    const scale = nIn / nOut;
    const rows = [];
    for (let i = 0; i < nOut; i++) {
      const lo = i * scale;
      const hi = (i + 1) * scale;
      const start = Math.floor(lo);
      const weights = [];
      for (let k = start; k < Math.min(nIn, Math.ceil(hi)); k++) {
        weights.push((Math.min(hi, k + 1) - Math.max(lo, k)) / scale);
      }
      rows.push({start, weights});
    }
    return rows;
  }

  /* Resize an (h, w) array to (outH, outW) by area averaging: rows first, then columns. */
  function areaResize(ink, h, w, outH, outW) {
    const byRow = areaWeights(h, outH);
    const byCol = areaWeights(w, outW);
    const tall = new Float64Array(outH * w);
    byRow.forEach(({start, weights}, i) => {
      for (let j = 0; j < w; j++) {
        let sum = 0;
        weights.forEach((weight, t) => { sum += weight * ink[(start + t) * w + j]; });
        tall[i * w + j] = sum;
      }
    });
    const out = new Float64Array(outH * outW);
    for (let i = 0; i < outH; i++) {
      byCol.forEach(({start, weights}, j) => {
        let sum = 0;
        weights.forEach((weight, t) => { sum += weight * tall[i * w + start + t]; });
        out[i * outW + j] = sum;
      });
    }
    return out;
  }

  /* [row, column] of the centre of mass, rounded to 1e-6 (as helpers.digits.centre_of_mass),
   * so that the same drawing is placed on the same pixel in both languages. */
  function centreOfMass(ink, h, w) {
    let total = 0;
    let rows = 0;
    let cols = 0;
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const v = ink[i * w + j];
        total += v;
        rows += v * i;
        cols += v * j;
      }
    }
    if (!(total > 0)) throw new Error("no ink: the drawing is empty");
    const round6 = (x) => Math.floor(x * 1e6 + 0.5) / 1e6;
    return [round6(rows / total), round6(cols / total)];
  }

  /* The ink's bounding box {top, left, h, w}, or null when there is no ink. */
  function boundingBox(ink, h, w) {
    let top = h, bottom = -1, left = w, right = -1;
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        if (ink[i * w + j] > 0) {
          top = Math.min(top, i); bottom = Math.max(bottom, i);
          left = Math.min(left, j); right = Math.max(right, j);
        }
      }
    }
    return bottom < 0 ? null : {top, left, h: bottom - top + 1, w: right - left + 1};
  }

  /* A drawing (row-major array of height * width ink values in [0, 1], ink bright) -> the
   * 28x28 input of LeNet-5 (Float32Array of 784): normalised with `norm` ({mean, std}, the
   * weights asset's `normalisation`), or ink in [0, 1] without it. Throws on a wrong size,
   * values outside [0, 1], an empty drawing or a norm without a positive std. */
  function preprocess(pixels, height, width, norm = null) {
    if (norm !== null && !(Number.isFinite(norm.mean) && norm.std > 0)) {
      throw new Error(`preprocess: norm must be {mean, std > 0}, got ${JSON.stringify(norm)}`);
    }
    if (!(height >= 1 && width >= 1) || pixels.length !== height * width) {
      throw new Error(`preprocess: expected ${height} x ${width} values, got ${pixels.length}`);
    }
    for (const v of pixels) {
      if (!(v >= 0 && v <= 1)) throw new Error(`preprocess: ink must lie in [0, 1], got ${v}`);
    }
    const box = boundingBox(pixels, height, width);
    if (box === null) throw new Error("no ink: the drawing is empty");
    const crop = new Float64Array(box.h * box.w);
    for (let i = 0; i < box.h; i++) {
      for (let j = 0; j < box.w; j++) {
        crop[i * box.w + j] = pixels[(box.top + i) * width + box.left + j];
      }
    }
    const scale = BOX / Math.max(box.h, box.w);
    const h = Math.max(1, roundHalfUp(box.h * scale));
    const w = Math.max(1, roundHalfUp(box.w * scale));
    const small = areaResize(crop, box.h, box.w, h, w);
    const [cy, cx] = centreOfMass(small, h, w);
    const centre = (SIDE - 1) / 2;
    const top = Math.min(Math.max(roundHalfUp(centre - cy), 0), SIDE - h);
    const left = Math.min(Math.max(roundHalfUp(centre - cx), 0), SIDE - w);
    const out = new Float32Array(SIDE * SIDE);
    for (let k = 0; k < out.length; k++) {
      const i = Math.floor(k / SIDE) - top;
      const j = (k % SIDE) - left;
      const v = i >= 0 && i < h && j >= 0 && j < w ? small[i * w + j] : 0;
      out[k] = norm ? (v - norm.mean) / norm.std : v;
    }
    return out;
  }

  /* ------------------------------------------------------------------ LeNet-5 forward */

  /* The asset's tensors {name: {shape, float32_base64}} -> {name: {shape, data: Float32Array}}
   * (little-endian float32, as tools/export_lenet.py writes them). */
  function decodeWeights(doc) {
    const tensors = {};
    for (const [name, {shape, float32_base64: b64}] of Object.entries(doc.tensors)) {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const view = new DataView(bytes.buffer);
      const data = new Float32Array(bytes.length / 4);
      for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(4 * i, true);
      tensors[name] = {shape, data};
    }
    return tensors;
  }

  /* A map stack {data, channels, height, width}, row-major channel by channel. */
  function maps(data, channels, height, width) {
    return {data, channels, height, width};
  }

  /* Convolution (cross-correlation, as PyTorch) with zero padding, stride 1. */
  function conv2d(x, {shape, data: weight}, {data: bias}, padding) {
    const [outC, inC, k] = shape;
    const oh = x.height + 2 * padding - k + 1;
    const ow = x.width + 2 * padding - k + 1;
    const out = new Float64Array(outC * oh * ow);
    for (let o = 0; o < outC; o++) {
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          let sum = bias[o];
          for (let c = 0; c < inC; c++) {
            for (let u = 0; u < k; u++) {
              const r = i + u - padding;
              if (r < 0 || r >= x.height) continue;
              for (let v = 0; v < k; v++) {
                const s = j + v - padding;
                if (s < 0 || s >= x.width) continue;
                const at = (c * x.height + r) * x.width + s;
                sum += weight[((o * inC + c) * k + u) * k + v] * x.data[at];
              }
            }
          }
          out[(o * oh + i) * ow + j] = sum;
        }
      }
    }
    return maps(out, outC, oh, ow);
  }

  function tanh(x) {
    return maps(x.data.map(Math.tanh), x.channels, x.height, x.width);
  }

  /* 2x2 average pooling with stride 2. */
  function avgPool2(x) {
    const h = Math.floor(x.height / 2);
    const w = Math.floor(x.width / 2);
    const out = new Float64Array(x.channels * h * w);
    for (let c = 0; c < x.channels; c++) {
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) {
          const top = (c * x.height + 2 * i) * x.width + 2 * j;   // the window's top left
          const below = top + x.width;
          out[(c * h + i) * w + j] =
            (x.data[top] + x.data[top + 1] + x.data[below] + x.data[below + 1]) / 4;
        }
      }
    }
    return maps(out, x.channels, h, w);
  }

  /* y = W x + b for a vector x; W is (out, in) row-major. */
  function linear(x, {shape: [outN, inN], data: weight}, {data: bias}) {
    const y = new Float64Array(outN);
    for (let o = 0; o < outN; o++) {
      let sum = bias[o];
      for (let i = 0; i < inN; i++) sum += weight[o * inN + i] * x[i];
      y[o] = sum;
    }
    return y;
  }

  /* LeNet-5 on one normalised 28x28 input (784 values): {logits: number[10], c1 (6 maps of
   * 28x28 after tanh), s2 (c1 pooled, 6 maps of 14x14), c3 (16 maps of 10x10 after tanh),
   * f5 (120 values after tanh), f6 (84 values after tanh)}, each map stack as
   * {data, channels, height, width}. ``weights`` is decodeWeights(asset), or the asset itself
   * (decoded on every call). */
  function forward(weights, input) {
    if (weights.tensors) weights = decodeWeights(weights);
    if (input.length !== SIDE * SIDE) {
      throw new Error(`forward: expected 784 values, got ${input.length}`);
    }
    const w = (name) => weights[name];
    const x = maps(Float64Array.from(input), 1, SIDE, SIDE);
    const c1 = tanh(conv2d(x, w("features.0.weight"), w("features.0.bias"), 2));
    const s2 = avgPool2(c1);
    const c3 = tanh(conv2d(s2, w("features.3.weight"), w("features.3.bias"), 0));
    const flat = avgPool2(c3).data;   // (16, 5, 5) flattened as torch's nn.Flatten does
    const f5 = linear(flat, w("classifier.1.weight"), w("classifier.1.bias")).map(Math.tanh);
    const f6 = linear(f5, w("classifier.3.weight"), w("classifier.3.bias")).map(Math.tanh);
    const logits = Array.from(linear(f6, w("classifier.5.weight"), w("classifier.5.bias")));
    return {logits, c1, s2, c3, f5, f6};
  }

  /* ------------------------------------------------------------------ LeNet-5 backward */

  /* The gradient with respect to the input of a convolution's output (as conv2d above): every
   * output pixel hands its gradient back to the inputs its kernel read, times the weight.
   * ``grad`` is (outC, oh, ow) like conv2d's output; returns (inC, x.height, x.width). */
  function conv2dInputGrad(grad, oh, ow, {shape, data: weight}, inH, inW, padding) {
    const [outC, inC, k] = shape;
    const out = new Float64Array(inC * inH * inW);
    for (let o = 0; o < outC; o++) {
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          const g = grad[(o * oh + i) * ow + j];
          if (g === 0) continue;
          for (let c = 0; c < inC; c++) {
            for (let u = 0; u < k; u++) {
              const r = i + u - padding;
              if (r < 0 || r >= inH) continue;
              for (let v = 0; v < k; v++) {
                const s = j + v - padding;
                if (s < 0 || s >= inW) continue;
                out[(c * inH + r) * inW + s] += weight[((o * inC + c) * k + u) * k + v] * g;
              }
            }
          }
        }
      }
    }
    return out;
  }

  /* The gradient through 2x2 average pooling (stride 2): each input of a window gets a quarter
   * of its output's gradient (a row or column left over by an odd side gets none). */
  function avgPool2Grad(grad, channels, height, width) {
    const h = Math.floor(height / 2);
    const w = Math.floor(width / 2);
    const out = new Float64Array(channels * height * width);
    for (let c = 0; c < channels; c++) {
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) {
          const g = grad[(c * h + i) * w + j] / 4;
          const top = (c * height + 2 * i) * width + 2 * j;
          out[top] = g; out[top + 1] = g; out[top + width] = g; out[top + width + 1] = g;
        }
      }
    }
    return out;
  }

  /* The gradient through y = W x + b: W^T times the output's gradient. */
  function linearInputGrad(grad, {shape: [outN, inN], data: weight}) {
    const out = new Float64Array(inN);
    for (let o = 0; o < outN; o++) {
      const g = grad[o];
      for (let i = 0; i < inN; i++) out[i] += weight[o * inN + i] * g;
    }
    return out;
  }

  /* Through tanh: multiply by its derivative, 1 - tanh^2, at the stored activation. */
  function tanhGrad(grad, activation) {
    return grad.map((g, k) => g * (1 - activation[k] * activation[k]));
  }

  /* Gradient saliency (Simonyan et al., 2014) of one normalised 28x28 input (784 values):
   * the gradient of one class's logit (default: the largest) with respect to every input
   * value, by the backward pass of forward() above -- one pass, layer by layer in reverse.
   * Returns {target, logits, gradient (Float64Array of 784, signed), saliency (|gradient| /
   * its maximum, 784 values in [0, 1]; all 0 where the gradient is 0 everywhere)}.
   * helpers.digits.lenet_saliency computes the same with PyTorch's autograd. */
  function saliency(weights, input, target = null) {
    if (weights.tensors) weights = decodeWeights(weights);
    const run = forward(weights, input);
    const w = (name) => weights[name];
    const classes = run.logits.length;
    if (target === null) target = run.logits.indexOf(Math.max(...run.logits));
    if (!(Number.isInteger(target) && target >= 0 && target < classes)) {
      throw new Error(`saliency: target must be a class in [0, ${classes - 1}], got ${target}`);
    }
    const out = w("classifier.5.weight");
    const inN = out.shape[1];
    const gF6 = out.data.slice(target * inN, (target + 1) * inN);     // d logit / d f6
    const gF5 = linearInputGrad(tanhGrad(Float64Array.from(gF6), run.f6),
                                w("classifier.3.weight"));
    const gFlat = linearInputGrad(tanhGrad(gF5, run.f5), w("classifier.1.weight"));
    const {c1, s2, c3} = run;
    const gC3 = avgPool2Grad(gFlat, c3.channels, c3.height, c3.width);
    const gS2 = conv2dInputGrad(tanhGrad(gC3, c3.data), c3.height, c3.width,
                                w("features.3.weight"), s2.height, s2.width, 0);
    const gC1 = avgPool2Grad(gS2, c1.channels, c1.height, c1.width);
    const gradient = conv2dInputGrad(tanhGrad(gC1, c1.data), c1.height, c1.width,
                                     w("features.0.weight"), SIDE, SIDE, 2);
    const top = gradient.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
    const map = gradient.map((g) => (top > 0 ? Math.abs(g) / top : 0));
    return {target, logits: run.logits, gradient, saliency: map};
  }

  function softmax(logits) {
    const top = Math.max(...logits);
    const exps = logits.map((z) => Math.exp(z - top));
    const total = exps.reduce((a, b) => a + b, 0);
    return exps.map((e) => e / total);
  }

  /* ------------------------------------------------------------------ drawing */

  /* Diverging colour for a tanh value in [-1, 1]: blue (negative), white, red (positive), as
   * matplotlib's RdBu_r in the chapter's figures. */
  function diverging(v) {
    const t = Math.max(-1, Math.min(1, v));
    const [r, g, b] = t < 0 ? [33, 102, 172] : [178, 24, 43];
    const a = Math.abs(t);
    return [255 + (r - 255) * a, 255 + (g - 255) * a, 255 + (b - 255) * a];
  }

  /* Paint a height x width grid of values on a canvas, one canvas pixel per value (CSS scales
   * it up, pixelated); colour(v) -> [r, g, b]. */
  function paint(canvas, values, height, width, colour, offset = 0) {
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d");
    const image = context.createImageData(width, height);
    for (let k = 0; k < height * width; k++) {
      const [r, g, b] = colour(values[offset + k]);
      image.data.set([r, g, b, 255], 4 * k);
    }
    context.putImageData(image, 0, 0);
  }

  const grey = (v) => [255 * v, 255 * v, 255 * v];

  /* matplotlib's viridis at 0, 0.1, ..., 1 (dark blue-purple -> yellow; perceptually uniform
   * and readable in greyscale and by colour-blind readers), interpolated linearly. */
  const VIRIDIS = [[68, 1, 84], [72, 36, 117], [65, 68, 135], [53, 95, 141], [42, 120, 142],
    [33, 145, 140], [34, 168, 132], [68, 191, 112], [122, 209, 81], [189, 223, 38],
    [253, 231, 37]];
  function viridis(v) {
    const t = Math.max(0, Math.min(1, v)) * (VIRIDIS.length - 1);
    const k = Math.min(VIRIDIS.length - 2, Math.floor(t));
    const f = t - k;
    return VIRIDIS[k].map((c, i) => c + (VIRIDIS[k + 1][i] - c) * f);
  }

  const ZOOM = 8;   // the saliency canvas: 8 of its pixels per input pixel (224 x 224)

  /* The outline of the ink (the 28x28 ink values, level 0.5) as line segments in the saliency
   * canvas's pixels: marching squares over the pixel centres, zero outside the image. */
  function inkOutline(ink, level = 0.5) {
    const at = (i, j) => (i >= 0 && i < SIDE && j >= 0 && j < SIDE ? ink[i * SIDE + j] : 0);
    const xy = (i, j) => [(j + 0.5) * ZOOM, (i + 0.5) * ZOOM];
    const cut = (p, q, a, b) => {   // where the level crosses from corner p (a) to q (b)
      const f = (level - a) / (b - a);
      return [p[0] + (q[0] - p[0]) * f, p[1] + (q[1] - p[1]) * f];
    };
    const segments = [];
    for (let i = -1; i < SIDE; i++) {
      for (let j = -1; j < SIDE; j++) {
        const corners = [[i, j], [i, j + 1], [i + 1, j + 1], [i + 1, j]];   // clockwise
        const values = corners.map(([r, c]) => at(r, c));
        const inside = values.map((v) => v >= level);
        const points = [];                                    // top, right, bottom, left
        for (let e = 0; e < 4; e++) {
          if (inside[e] !== inside[(e + 1) % 4]) {
            points.push(cut(xy(...corners[e]), xy(...corners[(e + 1) % 4]),
                            values[e], values[(e + 1) % 4]));
          } else {
            points.push(null);
          }
        }
        const crossed = points.filter((p) => p !== null);
        if (crossed.length === 2) {
          segments.push(crossed);
        } else if (crossed.length === 4) {   // a saddle: the centre decides the pairing
          const centre = values.reduce((a, b) => a + b, 0) / 4 >= level;
          if (inside[0] !== centre) {         // corners 0 and 2 are cut off
            segments.push([points[3], points[0]], [points[1], points[2]]);
          } else {                            // corners 1 and 3
            segments.push([points[0], points[1]], [points[2], points[3]]);
          }
        }
      }
    }
    return segments;
  }

  /* The saliency map (784 values in [0, 1]) in viridis, enlarged ZOOM times, with the outline
   * of the ink (784 values in [0, 1]) drawn over it in white. */
  function paintSaliency(canvas, map, ink) {
    const small = document.createElement("canvas");
    paint(small, map, SIDE, SIDE, viridis);
    canvas.width = SIDE * ZOOM;
    canvas.height = SIDE * ZOOM;
    const context = canvas.getContext("2d");
    context.imageSmoothingEnabled = false;
    context.drawImage(small, 0, 0, canvas.width, canvas.height);
    context.strokeStyle = "white";
    context.lineWidth = 2;
    context.lineCap = "round";
    context.beginPath();
    for (const [[x0, y0], [x1, y1]] of inkOutline(ink)) {
      context.moveTo(x0, y0);
      context.lineTo(x1, y1);
    }
    context.stroke();
  }

  /* ------------------------------------------------------------------ the explorer */

  const loaded = {};   // weights URL -> Promise of the decoded asset

  /* The weights script's URL, beside this script. A chapter stored before the weights became
   * a script names "lenet5_mnist.json": the same asset, now lenet5_mnist.js. */
  function weightsUrl(config) {
    const name = (config.weights || "lenet5_mnist.js").replace(/\.json$/, ".js");
    const root = document.documentElement.dataset.content_root;
    const base = SCRIPT_URL || new URL(`${root || ""}_static/explorers/`, location.href).href;
    return new URL(name, base).href;
  }

  /* Load the weights script at url (once per page); resolves to {doc, weights, norm}. */
  function loadWeights(url) {
    if (!loaded[url]) {
      const stem = new URL(url).pathname.split("/").pop().replace(/\.js$/, "");
      loaded[url] = new Promise((resolve, reject) => {
        const found = () => (window.CNN_COURSE_WEIGHTS || {})[stem];
        if (found()) {
          resolve(found());
          return;
        }
        const script = document.createElement("script");
        script.src = url;
        script.onload = () => (found() ? resolve(found())
          : reject(new Error(`${stem}.js defines no weights`)));
        script.onerror = () => reject(new Error(`${stem}.js did not load`));
        document.head.append(script);
      }).then((doc) => {
        if (!doc.normalisation) throw new Error("the weights file has no normalisation");
        return {doc, weights: decodeWeights(doc), norm: doc.normalisation};
      });
    }
    return loaded[url];
  }

  /* A labelled block of small canvases, one per map. */
  function mapGrid(title, count, className) {
    const {el} = window.CnnExplorers;
    const canvases = Array.from({length: count}, (_, i) => el("canvas", {
      class: `cnn-digit-map ${className}`, role: "img", "aria-label": `${title}, map ${i + 1}`,
      title: "Point at a pixel to see the kernel and the patch it reads; click to enlarge",
    }));
    const node = el("figure", {class: "cnn-digit-maps"},
      el("figcaption", {}, title), el("div", {class: "cnn-digit-map-row"}, canvases));
    return {node, canvases};
  }

  function mount(root, config) {
    const {el, uniqueId} = window.CnnExplorers;
    const pad = el("canvas", {
      class: "cnn-digit-pad", width: CANVAS, height: CANVAS, role: "img",
      "aria-label": "Drawing area: draw one digit with the mouse, a pen or a finger",
    });
    const context = pad.getContext("2d", {willReadFrequently: true});
    const input = el("canvas", {class: "cnn-digit-input", role: "img",
                                "aria-label": "The 28 by 28 input the network reads"});
    const overlay = el("canvas", {class: "cnn-digit-input cnn-digit-saliency", role: "img",
      "aria-label": "Saliency map: how much each input pixel changes the winning digit's " +
                    "score, brightest where it changes it most, with the digit's outline"});
    const overlayTitle = el("figcaption", {}, "Saliency");
    const status = el("p", {class: "cnn-digit-status", "aria-live": "polite"},
      "Loading the network's weights…");
    const listId = uniqueId("probabilities");
    const bars = Array.from({length: 10}, (_, d) => {
      const fill = el("span", {class: "cnn-digit-bar-fill"});
      const value = el("span", {class: "cnn-digit-value"}, "–");
      const row = el("li", {class: "cnn-digit-row"}, el("span", {class: "cnn-digit-label"}, d),
        el("span", {class: "cnn-digit-bar"}, fill), value);
      return {row, fill, value};
    });
    const c1 = mapGrid("C1: 6 feature maps, 28×28 (after tanh)", 6, "cnn-digit-c1");
    const c3 = mapGrid("C3: 16 feature maps, 10×10 (after tanh)", 16, "cnn-digit-c3");
    const f5 = el("canvas", {class: "cnn-digit-map cnn-digit-f5", role: "img",
                             "aria-label": "F5: 120 units after tanh, 12 rows of 10"});
    const f6 = el("canvas", {class: "cnn-digit-map cnn-digit-f6", role: "img",
                             "aria-label": "F6: 84 units after tanh, 12 rows of 7"});
    const dense = el("figure", {class: "cnn-digit-maps"},
      el("figcaption", {}, "F5 (120 units) and F6 (84 units), after tanh, as grids"),
      el("div", {class: "cnn-digit-map-row"}, f5, f6));
    // What a C1 or C3 pixel computes: its kernel beside the patch it reads (pointer on a map).
    const inspectKernel = el("div", {class: "cnn-digit-map-row"});
    const inspectPatch = el("div", {class: "cnn-digit-map-row"});
    const inspectText = el("figcaption", {},
      "Point at a pixel of a C1 or C3 map to see the kernel that made it and the patch it reads.");
    const inspector = el("figure", {class: "cnn-digit-inspect"}, inspectText,
      el("div", {class: "cnn-digit-inspect-row"},
        el("div", {}, el("p", {class: "cnn-digit-list-title"}, "kernel"), inspectKernel),
        el("div", {}, el("p", {class: "cnn-digit-list-title"}, "input patch"), inspectPatch)));
    let lastRun = null;

    /* Show map `c` of layer "c1" or "c3" at pixel (i, j): kernel slices and input patches. */
    function inspect(layer, c, i, j) {
      if (!lastRun || !network) return;
      const weight = network.weights[layer === "c1" ? "features.0.weight" : "features.3.weight"];
      const bias = network.weights[layer === "c1" ? "features.0.bias" : "features.3.bias"].data;
      const [, inC, k] = weight.shape;
      const source = layer === "c1" ? {data: lastRun.x, height: SIDE, width: SIDE}
        : lastRun.s2;
      const padding = layer === "c1" ? 2 : 0;
      const kernels = [];
      const patches = [];
      let sum = bias[c];
      for (let ch = 0; ch < inC; ch++) {
        const kernel = new Float64Array(k * k);
        const patch = new Float64Array(k * k);
        for (let u = 0; u < k; u++) {
          for (let v = 0; v < k; v++) {
            const r = i + u - padding;
            const q = j + v - padding;
            const inside = r >= 0 && r < source.height && q >= 0 && q < source.width;
            const value = inside ? source.data[(ch * source.height + r) * source.width + q] : 0;
            kernel[u * k + v] = weight.data[((c * inC + ch) * k + u) * k + v];
            patch[u * k + v] = value;
            sum += kernel[u * k + v] * value;
          }
        }
        kernels.push(kernel);
        patches.push(patch);
      }
      const scale = Math.max(...kernels.map((kk) => Math.max(...kk.map(Math.abs)))) || 1;
      const {mean, std} = network.norm;
      const tile = (values, colour) => {
        const canvas = el("canvas", {class: "cnn-digit-map cnn-digit-tile"});
        paint(canvas, values, k, k, colour);
        return canvas;
      };
      inspectKernel.replaceChildren(...kernels.map((kk) => tile(kk, (v) => diverging(v / scale))));
      inspectPatch.replaceChildren(...patches.map((pp) => tile(pp, layer === "c1"
        ? (v) => grey(Math.max(0, Math.min(1, v * std + mean))) : diverging)));
      const name = layer === "c1" ? "C1" : "C3";
      const reads = layer === "c1" ? "the input (zero-padded by 2)"
        : `the ${inC} pooled C1 maps (S2, 14×14)`;
      inspectText.textContent = `${name} map ${c + 1}, pixel (${i}, ${j}): ` +
        `its ${k}×${k}${inC > 1 ? `×${inC}` : ""} kernel (red positive, blue negative) ` +
        `reads a ${k}×${k} patch of ${reads}; the products plus the bias sum to ` +
        `${sum.toFixed(2)}, and tanh gives ${Math.tanh(sum).toFixed(2)}.`;
      root.cnnInspect = {layer, c, i, j, sum};
    }

    function watch(canvases, layer, side) {
      canvases.forEach((canvas, c) => {
        const at = (event) => {
          const rect = canvas.getBoundingClientRect();
          const j = Math.min(side - 1, Math.floor((event.clientX - rect.left) / rect.width * side));
          const i = Math.min(side - 1, Math.floor((event.clientY - rect.top) / rect.height * side));
          inspect(layer, c, Math.max(0, i), Math.max(0, j));
        };
        canvas.addEventListener("pointermove", at);
        canvas.addEventListener("pointerdown", at);
        canvas.addEventListener("click", () => canvas.classList.toggle("cnn-digit-enlarged"));
      });
    }
    watch(c1.canvases, "c1", 28);
    watch(c3.canvases, "c3", 10);
    let network = null;

    function clearPad() {
      context.fillStyle = "black";
      context.fillRect(0, 0, CANVAS, CANVAS);
    }

    function inkOfPad() {
      const rgba = context.getImageData(0, 0, CANVAS, CANVAS).data;
      const ink = new Float64Array(CANVAS * CANVAS);
      for (let k = 0; k < ink.length; k++) ink[k] = rgba[4 * k] / 255;
      return ink;
    }

    function showEmpty(message) {
      status.textContent = message;
      bars.forEach(({row, fill, value}) => {
        fill.style.width = "0";
        value.textContent = "–";
        row.classList.remove("cnn-digit-best");
      });
      paint(input, new Float32Array(SIDE * SIDE), SIDE, SIDE, grey);
      paint(overlay, new Float32Array(SIDE * SIDE), SIDE, SIDE, viridis);
      overlayTitle.textContent = "Saliency";
      lastRun = null;
      [...c1.canvases, ...c3.canvases, f5, f6].forEach((canvas) => {
        canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
      });
      root.cnnDrawDigit = null;
    }

    /* Read the pad, run the network, show everything; announce = update the live text. */
    function classify(announce) {
      if (!network) return;
      let x;
      try {
        x = preprocess(inkOfPad(), CANVAS, CANVAS, network.norm);
      } catch (error) {
        showEmpty("Draw a digit (0–9) in the black square, or load a test digit.");
        return;
      }
      const run = forward(network.weights, x);
      const {logits, c1: m1, c3: m3} = run;
      const probabilities = softmax(logits);
      const {mean, std} = network.norm;
      paint(input, x, SIDE, SIDE, (v) => grey(v * std + mean));
      // one backward pass: the gradient of the winning logit with respect to the input
      const {target, saliency: map} = saliency(network.weights, x);
      paintSaliency(overlay, map, x.map((v) => v * std + mean));
      overlayTitle.textContent = `Saliency of the ${target}`;
      c1.canvases.forEach((canvas, c) => paint(canvas, m1.data, 28, 28, diverging, c * 784));
      c3.canvases.forEach((canvas, c) => paint(canvas, m3.data, 10, 10, diverging, c * 100));
      paint(f5, run.f5, 12, 10, diverging);
      paint(f6, run.f6, 12, 7, diverging);
      lastRun = {x, s2: run.s2};
      // the inspector follows the drawing; it starts on C1's first map, at the centre
      const {layer, c, i, j} = root.cnnInspect || {layer: "c1", c: 0, i: 14, j: 14};
      inspect(layer, c, i, j);
      probabilities.forEach((p, d) => {
        bars[d].fill.style.width = `${(100 * p).toFixed(1)}%`;
        bars[d].value.textContent = `${(100 * p).toFixed(1)} %`;
      });
      const order = probabilities.map((p, d) => [p, d]).sort((a, b) => b[0] - a[0]);
      bars.forEach(({row}, d) => row.classList.toggle("cnn-digit-best", d === order[0][1]));
      root.cnnDrawDigit = {input: x, logits, probabilities, predicted: order[0][1],
                           saliency: map, saliencyTarget: target};
      if (announce) {
        const [[p1, d1], [p2, d2]] = order;
        status.textContent = `LeNet-5 reads a ${d1} (${(100 * p1).toFixed(1)} %);` +
          ` next most likely: ${d2} (${(100 * p2).toFixed(1)} %).`;
      }
    }

    /* Pointer drawing: mouse, pen and touch alike. */
    let last = null;
    let pending = false;
    function point(event) {
      const rect = pad.getBoundingClientRect();
      return [(event.clientX - rect.left) * CANVAS / rect.width,
              (event.clientY - rect.top) * CANVAS / rect.height];
    }
    function stroke(to) {
      if (last) {
        context.strokeStyle = "white";
        context.lineWidth = PEN;
        context.lineCap = "round";
        context.lineJoin = "round";
        context.beginPath();
        context.moveTo(...last);
        context.lineTo(...to);
        context.stroke();
      } else {                 // a tap or a click: a dot, as wide as the pen
        context.fillStyle = "white";
        context.beginPath();
        context.arc(...to, PEN / 2, 0, 2 * Math.PI);
        context.fill();
      }
      last = to;
      if (!pending) {         // classify at most once per animation frame while drawing
        pending = true;
        requestAnimationFrame(() => { pending = false; classify(false); });
      }
    }
    let showingSample = false;   // the pad shows a test digit: the reader's first stroke clears it
    pad.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      pad.setPointerCapture(event.pointerId);
      if (showingSample) {
        clearPad();
        showingSample = false;
      }
      last = null;
      stroke(point(event));
    });
    pad.addEventListener("pointermove", (event) => { if (last) stroke(point(event)); });
    const end = () => {
      if (last) { last = null; classify(true); }
    };
    pad.addEventListener("pointerup", end);
    pad.addEventListener("pointercancel", end);

    /* Keyboard path: paint an MNIST test digit on the pad (10 canvas pixels per pixel). */
    function loadSample(sample) {
      const pixels = Uint8Array.from(atob(sample.pixels), (c) => c.charCodeAt(0));
      const small = document.createElement("canvas");
      paint(small, pixels, SIDE, SIDE, (v) => [v, v, v]);
      clearPad();
      context.imageSmoothingEnabled = false;
      context.drawImage(small, 0, 0, CANVAS, CANVAS);
      showingSample = true;
      classify(true);
      status.textContent += ` (MNIST test image ${sample.index}, labelled ${sample.label}.` +
        " Draw in the square to start your own.)";
    }
    const samples = el("div", {class: "cnn-digit-samples", role: "group",
                               "aria-label": "Load an MNIST test digit"}, "Test digits: ");
    const clear = el("button", {type: "button", onclick: () => {
      clearPad();
      showingSample = false;
      classify(true);
    }}, "Clear");
    // Not a digit: the square filled with ink, the network's answer shown as for any drawing.
    const fill = el("button", {type: "button", class: "cnn-digit-fill", onclick: () => {
      context.fillStyle = "white";
      context.fillRect(0, 0, CANVAS, CANVAS);
      showingSample = false;
      classify(true);
    }}, "Fill the square (not a digit)");

    root.append(
      el("div", {class: "cnn-digit-top"},
        el("div", {class: "cnn-digit-left"}, pad, el("div", {class: "cnn-digit-buttons"}, clear, fill),
          samples),
        el("div", {class: "cnn-digit-right"},
          el("div", {class: "cnn-digit-pair"},
            el("figure", {class: "cnn-digit-input-figure"},
              el("figcaption", {}, "What LeNet-5 reads (28×28)"), input),
            el("figure", {class: "cnn-digit-input-figure"}, overlayTitle, overlay)),
          el("p", {class: "cnn-digit-saliency-note"},
            "Saliency: how strongly each pixel sways the winning digit's score (|gradient| ",
            "of its logit, yellow = the most in this drawing); white line: the digit's outline."),
          status,
          el("p", {class: "cnn-digit-list-title", id: listId}, "Class probabilities"),
          el("ol", {class: "cnn-digit-probabilities", "aria-labelledby": listId},
            bars.map(({row}) => row)),
          el("p", {class: "cnn-digit-caveat"},
            "The ten probabilities always add up to 100 %: the network has no way to answer ",
            "“this is not a digit”. Fill the square, scribble or write a letter, and see which ",
            "digit it names, and how sure it is."))),
      c1.node, c3.node, inspector, dense);
    clearPad();

    loadWeights(weightsUrl(config)).then(({doc, weights, norm}) => {
      network = {weights, norm};
      const byLabel = [...(doc.samples || [])].sort((a, b) => a.label - b.label);
      for (const sample of byLabel) {
        samples.append(el("button", {
          type: "button", onclick: () => loadSample(sample),
          "aria-label": `MNIST test digit ${sample.label} (test image ${sample.index})`,
        }, sample.label));
      }
      // it starts on the first digit of MNIST's test set (as the chapter's static figure)
      const first = [...(doc.samples || [])].sort((a, b) => a.index - b.index)[0];
      if (first) {
        loadSample(first);
      } else {
        showEmpty("Draw a digit (0–9) in the black square, or load a test digit.");
      }
      root.dataset.ready = "true";
    }).catch((error) => {
      console.error("draw-digit: could not load the weights", error);
      window.CnnExplorers.fail(root, `the network's weights did not load: ${error.message}`);
    });
  }

  window.CnnExplorers = window.CnnExplorers || {};
  window.CnnExplorers.drawDigit = {preprocess, decodeWeights, forward, saliency, softmax,
                                   weightsUrl};
  if (window.CnnExplorers.register) window.CnnExplorers.register("draw-digit", mount);
})();
