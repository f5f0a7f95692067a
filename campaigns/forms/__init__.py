"""Forms, one module per feature; validation lives here, not in JavaScript alone."""
