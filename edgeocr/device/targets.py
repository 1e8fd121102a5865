"""Target strings -> transports: the one place that knows every implementation.

``transport.py`` defines the interface only; ``adb.py``, ``ssh.py`` and ``local.py`` implement it
and import it. This module sits on top of all of them, so there is no import circle:

* :func:`open_target` turns ``adb``, ``adb:SERIAL``, ``ssh:user@host[:port]`` or ``local`` into a
  connected :class:`~edgeocr.device.transport.Transport`;
* :func:`expand_targets` turns repeated ``--device`` values into a list of distinct targets,
  replacing ``all-adb`` with every device ``adb devices`` lists in state ``device``.
"""
from __future__ import annotations

from typing import Iterable, List

from ..errors import ConfigError, DeviceError
from .transport import Transport

ALL_ADB = "all-adb"
VALID_FORMS = "adb, adb:SERIAL, ssh:user@host[:port], local, all-adb"


def check_target(target: str) -> None:
    """Reject a malformed target string before any connection is tried (names the valid forms)."""
    kind, sep, rest = target.partition(":")
    if target == ALL_ADB or (kind == "adb") or (kind == "local" and not sep):
        return
    if kind == "ssh":
        if not rest:
            raise ConfigError(f"target {target!r} needs a host: ssh:user@host[:port]")
        from .ssh import parse_ssh_target

        parse_ssh_target(rest)
        return
    raise ConfigError(f"unknown device target {target!r}; valid forms: {VALID_FORMS}")


def open_target(target: str, **options: object) -> Transport:
    """Parse ``adb[:SERIAL]``, ``ssh:user@host[:port]`` or ``local`` into a connected transport."""
    if target == ALL_ADB:
        raise ConfigError(f"{ALL_ADB} names several devices; expand it with expand_targets() first")
    check_target(target)
    kind, _, rest = target.partition(":")
    if kind == "adb":
        from .adb import AdbTransport

        return AdbTransport(rest or None, **options)  # type: ignore[arg-type]
    if kind == "ssh":
        from .ssh import SshTransport

        return SshTransport(rest, **options)  # type: ignore[arg-type]
    from .local import LocalTransport

    return LocalTransport()


def expand_targets(targets: Iterable[str]) -> List[str]:
    """Distinct targets in the order given; ``all-adb`` becomes every ``adb:SERIAL`` in state ``device``.

    Raises :class:`ConfigError` for a malformed target and :class:`DeviceError` when ``all-adb``
    finds no ready device (the states of the others are named).
    """
    out: List[str] = []
    for target in targets:
        check_target(target)
        if target == ALL_ADB:
            from .adb import list_devices

            devices = list_devices()
            ready = [f"adb:{d.serial}" for d in devices if d.state == "device"]
            if not ready:
                listed = ", ".join(f"{d.serial} ({d.state})" for d in devices) or "none"
                raise DeviceError(f"--device {ALL_ADB}: no adb device in state 'device'; `adb devices` lists: {listed}")
            out.extend(t for t in ready if t not in out)
        elif target not in out:
            out.append(target)
    return out
