"""The SO-100's Feetech STS3215 servo bus: the wire protocol (`protocol`), a byte-exact servo
emulator on a pseudo-terminal (`emulator`), the vendor SDK behind a lock (`bus`), per-robot
calibration (`calibration`) and the `Driver` (`driver`). May import hardware/ and robots/."""
