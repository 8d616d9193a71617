"""Heavy machines (excavator, wheel loader, articulated hauler): one folder each."""
