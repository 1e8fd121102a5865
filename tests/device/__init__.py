"""Test-only emulated ARM64 device (sysroot, fake adbd, sshd fixtures) for the on-device tests."""
