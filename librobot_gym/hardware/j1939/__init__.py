"""SAE J1939 on CAN for hydraulic machines: the excavator's DBC and codec, the driver (python-can
+ can-j1939), an ECU emulator that speaks the same frames on a software CAN bus, and the
driver on that emulator in real time or in lockstep (`emulated.py`).
May import hardware/ (driver interfaces, machine kinematics) and robots/; never envs/."""
