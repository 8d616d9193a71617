"""Humanoids (Unitree H1, Fourier GR1, a Figure-class (unofficial) one): a free-floating
pelvis, legs, torso and arms driven by joint PD servos, one folder each, registered with
`register_robot` and, for the balance law, `common.register_layout`; `balance.py` is the
standing balance law their `upper_body` mode and the Stand expert share (pure numpy: robots
may not import backends)."""
