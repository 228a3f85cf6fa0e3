/* Placeholder: the conv_arithmetic explorer (see common.js). */
