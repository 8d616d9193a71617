"""The twin: a PyBullet simulation of a robot cell behind the `Driver` interface, the stand-in
for the real world when no hardware is attached (`twin`, `twin:lockstep`)."""
