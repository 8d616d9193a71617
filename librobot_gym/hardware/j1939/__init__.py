"""SAE J1939 on CAN for hydraulic machines: the project's DBC (`machines.dbc`: the excavator's
valve frames, the wheel loader's and the hauler's drive frames) and codec, the drivers
(python-can + can-j1939: `driver.py`, `wheeled_driver.py`), ECU emulators that speak the same
frames on a software CAN bus (`emulator.py`, `wheeled_emulator.py`), and the drivers on those
emulators in real time or in lockstep (`emulated.py`).
May import hardware/ (driver interfaces, machine kinematics) and robots/; never envs/."""
