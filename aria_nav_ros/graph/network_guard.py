"""Who may speak to the wearer: the graph leaves this machine only where DDS security guards it, or when told to.

On this machine alone (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST, the graph's default) only local programs reach
the graph. Once discovery leaves it (SUBNET, SYSTEM_DEFAULT, ROS_STATIC_PEERS), anyone on the network can publish
detections, cues and events that navigation speaks to the wearer. SROS2 (DDS authentication and access control,
config/sros2_policy.xml, scripts/sros2_keystore.sh) closes that, but only where the DDS library has security
built in; the PyPI wheels' Fast DDS has not. `network_verdict` decides, for the launcher and the launch file alike.
ROS-free.
"""

from __future__ import annotations

import mmap
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aria_nav_ros.graph.description import CONTAINER, dds_environment

# rcl's ranges that leave this machine; unset or empty is rcl's default, SUBNET, and a value rcl does not know
# (a lower-case "subnet") it reads as LOCALHOST.
NETWORK_RANGES = ("", "SUBNET", "SYSTEM_DEFAULT")
# Plugin names a Fast DDS built with security (-DSECURITY=ON) holds; a build without has none of them.
SECURITY_PLUGINS = (b"builtin.PKI-DH", b"builtin.Access-Permissions")
ENCLAVE_OVERRIDE = "ROS_SECURITY_ENCLAVE_OVERRIDE"


@dataclass(frozen=True)
class NetworkVerdict:
    allowed: bool
    line: str  # why the graph is refused, or the warning when it is allowed without security; "" when local


def network_scope(env: Mapping[str, str]) -> str:
    """What takes discovery beyond this machine, in words ("" when nothing does)."""
    reach = env.get("ROS_AUTOMATIC_DISCOVERY_RANGE", "")
    peers = env.get("ROS_STATIC_PEERS", "").strip(" ;")
    scope = [f"ROS_AUTOMATIC_DISCOVERY_RANGE={reach or '(unset: SUBNET)'}"] if reach in NETWORK_RANGES else []
    return ", ".join(scope + ([f"ROS_STATIC_PEERS={peers}"] if peers else []))


def sros2_enforced(env: Mapping[str, str]) -> bool:
    """SROS2 asked for and enforced: a node without its keys fails rather than run open."""
    keystore = env.get("ROS_SECURITY_KEYSTORE", "")
    return (
        env.get("ROS_SECURITY_ENABLE", "").lower() == "true"
        and env.get("ROS_SECURITY_STRATEGY", "") == "Enforce"
        and bool(keystore)
        and Path(keystore).is_dir()
    )


def network_verdict(env: Mapping[str, str], insecure_network: bool, dds_security: bool) -> NetworkVerdict:
    """May the graph start with this environment's discovery? `dds_security`: the DDS library has security."""
    scope = network_scope(env)
    if not scope:
        return NetworkVerdict(True, "")
    if dds_security and sros2_enforced(env):
        return NetworkVerdict(True, f"{scope}: the graph's nodes authenticate with SROS2 keys from the keystore")
    exposed = "anyone on the network can publish detections, cues and events that the wearer will hear"
    if insecure_network:
        return NetworkVerdict(True, f"warning: {scope} without DDS security (insecure_network): {exposed}")
    missing = (
        "SROS2 is not enforced (ROS_SECURITY_ENABLE=true, ROS_SECURITY_STRATEGY=Enforce, ROS_SECURITY_KEYSTORE)"
        if dds_security
        else "this ROS install's DDS has no security"
    )
    return NetworkVerdict(
        False,
        f"refusing network discovery ({scope}): {missing}, so {exposed}; use SROS2 (scripts/sros2_keystore.sh)"
        " on a ROS install whose DDS has security, or accept the risk with insecure_network:=true"
        " (--insecure-network)",
    )


def fastdds_library(env: Mapping[str, str]) -> Path | None:
    """The libfastdds the nodes load: from the ROS prefixes (AMENT_PREFIX_PATH), LD_LIBRARY_PATH, this Python's."""
    folders = [Path(p) / "lib" for p in env.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    folders += [Path(p) for p in env.get("LD_LIBRARY_PATH", "").split(os.pathsep) if p]
    folders.append(Path(sys.prefix) / "lib")
    for folder in folders:
        found = sorted(folder.glob("libfastdds.so*")) if folder.is_dir() else []
        if found:
            return found[0].resolve()
    return None


def has_security_plugins(library: Path) -> bool:
    """Whether a DDS library holds the builtin security plugins (authentication, access control)."""
    with open(library, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return all(data.find(name) >= 0 for name in SECURITY_PLUGINS)


def dds_has_security(env: Mapping[str, str]) -> bool:
    library = fastdds_library(env)
    return library is not None and has_security_plugins(library)


def graph_network_verdict(env: Mapping[str, str], insecure_network: bool) -> NetworkVerdict:
    """The verdict for the graph about to start from `env` (os.environ), with the DDS settings the graph sets on
    top of it (description.dds_environment: this machine only unless `env` chose a range); the library is only looked
    at when it matters."""
    env = {**env, **dds_environment(env)}
    if not network_scope(env):
        return NetworkVerdict(True, "")
    return network_verdict(env, insecure_network, dds_has_security(env))


def enclave(namespace: str, node_names: tuple[str, ...]) -> str:
    """A process's SROS2 enclave: /<namespace>/<node>, or .../aria_nav_container for several nodes in one."""
    leaf = node_names[0] if len(node_names) == 1 else CONTAINER  # the container's enclave for several nodes
    return f"{namespace.rstrip('/')}/{leaf}" if namespace else f"/{leaf}"


def security_environment(env: Mapping[str, str], namespace: str, node_names: tuple[str, ...]) -> dict[str, str]:
    """With SROS2 on, each process runs in its own enclave (made by scripts/sros2_keystore.sh), unless the
    user's environment already names one for everything."""
    if env.get("ROS_SECURITY_ENABLE", "").lower() != "true" or env.get(ENCLAVE_OVERRIDE):
        return {}
    return {ENCLAVE_OVERRIDE: enclave(namespace, node_names)}
