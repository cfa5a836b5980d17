// Package lab is the emulated board and its private LAN: QEMU's "virt"
// machine running U-Boot, wired by a tap device to a user+network
// namespace that bootrig creates itself, where bootrig's servers listen on
// the lab's server address and nothing else can be reached.
//
// Start from [QEMU] (the machine's options; [QEMU.Args] is its argv, a pure
// function) and [Start] (runs it paused, so the console can be opened
// before the first byte; [Machine.Resume] starts the CPU). The namespace:
// [Reexec] runs this program again inside a new one, where [Inside]
// reports true and [LAN.Setup] brings up lo and the tap ([SharedLAN.Setup]:
// a bridge and a tap per board, for several boards on one LAN); [JoinCommand]
// enters a running lab's namespace (bootrig up --attach). [QEMU.WriteEnv]
// puts a U-Boot environment image where the board's U-Boot loads it
// from, while the board is off: the flash bank ([WriteFlash]) or
// uboot.env on a FAT disk ([WriteEnvDisk]); [State] records a running
// lab for later commands. An
// [Instance] is a board under a name, with a state dir of its own;
// [Running] lists those whose QEMU runs, [SetPower] switches one through
// QMP, and [CheckMemory] says whether the host has room for another.
package lab
