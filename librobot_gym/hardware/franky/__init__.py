"""A Franka (Panda / FR3) through franky, libfranka's Python wrapper, and its test tools.

The driver (`driver`) with its parts: how it calls franky (`calls`), reads its failures
(`errors`), reads the robot's state (`reader`), commands the hand (`hand`) and lets go of a dead
connection (`closing`); `franky:sim`, the driver on a franky-sim it starts (`simulated`). The
test tools: franky-sim on chosen loopback ports (`sim_process`)
behind a fault relay (`faults`, on its thread `loop`, following libfranka's `protocol`) in a
child process (`fault_proxy`)."""
