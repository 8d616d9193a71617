"""Humanoids (Unitree H1; Fourier GR1 and a Figure-class humanoid to come): a free-floating
pelvis, legs, torso and arms driven by joint PD servos, one folder each, registered with
`register_robot`; `balance.py` is the standing balance law their `upper_body` mode and the
Stand expert share (pure numpy: robots may not import backends)."""
