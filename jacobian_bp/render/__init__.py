"""One module per output form; they consume Step records and never compute gradients themselves."""
