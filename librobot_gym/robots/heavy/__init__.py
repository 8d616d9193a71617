"""Heavy machines (excavator, wheel loader; later the articulated hauler): one module per machine."""
