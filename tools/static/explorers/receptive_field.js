/* Placeholder: the receptive_field explorer (see common.js). */
