"""One package per feature: routes, forms, commands and helpers of that feature."""
