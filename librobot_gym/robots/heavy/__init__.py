"""Heavy machines (excavator; later wheel loader and articulated truck): one module per machine."""
