"""The dashboard's views, one module per feature. Each view checks its own permissions."""
