/* Placeholder: the draw_digit explorer (see common.js). */
