"""Unitree H1 through unitree_sdk2py over CycloneDDS (driver, emulator, loopback config)."""
