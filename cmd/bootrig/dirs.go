package main

import "github.com/bootrig/bootrig/crossbuild"

// cacheDir is bootrig's cache: ~/.cache/bootrig (or $BOOTRIG_CACHE).
func cacheDir() string { return crossbuild.DefaultCache() }

// outDir is where a board's build results go by default.
func outDir(board string) string { return crossbuild.DefaultOut(cacheDir(), board) }
