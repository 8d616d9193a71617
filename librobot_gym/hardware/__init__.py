"""Everything that talks to a real machine, apart from envs: the driver interfaces (`driver`,
`machine`), the driver-spec registry (`drivers`), the shared safety layer, cameras, the operator
console, the bridge, the PyBullet twin, and one sub-package per protocol (franky, feetech, rtde,
j1939).
May import robots/ and the foundation modules (errors, registry, scene, wire); never envs/."""
