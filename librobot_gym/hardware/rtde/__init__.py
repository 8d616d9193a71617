"""Universal Robots e-Series arms over RTDE: the driver (`driver.py`, through the ur-rtde client
library, and `robotiq.py` for the gripper's URCap socket), the controller emulator that speaks
the same protocols on loopback (`emulator.py`, in its own process: `emulator_process.py`), the
RTDE wire format (`protocol.py`) and the `ur:` scheme. Imports only from robots/ and hardware/."""
