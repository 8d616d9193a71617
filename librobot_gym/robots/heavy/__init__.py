"""Heavy machines (excavator, wheel loader; the articulated hauler next): one module each."""
