"""A Franka (Panda / FR3) through franky, libfranka's Python wrapper (`driver`), and its test
tools: franky-sim on chosen loopback ports (`sim_process`) behind a protocol-aware fault relay
(`faults`, `fault_proxy`)."""
