"""On-device targets: adb, ssh and local transports."""
