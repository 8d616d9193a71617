"""The Fourier GR1 through Fourier's GRX client (`fourier-grx-client`, Zenoh + msgpack) and
its MuJoCo emulator on loopback."""
