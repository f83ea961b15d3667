"""Stand-in for `launch_ros.actions.Node` (see ../README.md).

It takes the keyword arguments the real Node takes and can say which command
line it stands for, following launch_ros' documented behaviour: the
executable from the package's lib folder, `arguments`, then `--ros-args`
with the node name and namespace as remappings, each parameter file or
dictionary in order (later ones win), the remappings, and `ros_arguments`.
"""

from __future__ import annotations

import json


class Node:
    def __init__(
        self,
        *,
        executable: str,
        package: str | None = None,
        name: str | None = None,
        namespace: str | None = None,
        exec_name: str | None = None,
        parameters: list | None = None,
        remappings: list | None = None,
        ros_arguments: list | None = None,
        arguments: list | None = None,
        respawn: bool = False,
        respawn_delay: float | None = None,
        output: str = "log",
        **process_kwargs: object,
    ) -> None:
        unknown = set(process_kwargs) - {
            "env",
            "additional_env",
            "cwd",
            "emulate_tty",
            "sigterm_timeout",
            "sigkill_timeout",
        }
        if unknown:
            raise TypeError(f"Node() got unexpected keyword arguments {sorted(unknown)}")
        self.package, self.executable, self.name, self.namespace = package, executable, name, namespace
        self.parameters, self.remappings = list(parameters or []), list(remappings or [])
        self.ros_arguments, self.arguments = list(ros_arguments or []), list(arguments or [])
        self.respawn, self.respawn_delay, self.output = respawn, respawn_delay, output

    def command_line(self) -> list[str]:
        args = [self.executable, *self.arguments, "--ros-args"]
        if self.name:
            args += ["-r", f"__node:={self.name}"]
        if self.namespace:
            args += ["-r", f"__ns:={self.namespace}"]
        for entry in self.parameters:
            if isinstance(entry, dict):
                for key, value in entry.items():
                    args += ["-p", f"{key}:={json.dumps(value)}"]
            else:
                args += ["--params-file", str(entry)]
        for source, target in self.remappings:
            args += ["-r", f"{source}:={target}"]
        return args + self.ros_arguments
