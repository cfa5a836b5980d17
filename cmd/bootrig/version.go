package main

import (
	"runtime/debug"
	"strings"
)

// version is bootrig's version as the Go toolchain recorded it in the
// binary: the module version ("(devel)" for a build from a checkout) and
// the VCS revision, its time and whether the tree had local changes.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (no build information in the binary)"
	}
	return versionString(bi)
}

// versionString formats build information like
// "v1.2.0 (rev 3040c44ab8e1, 2026-12-02T04:15:31Z, modified; go1.26.8)".
func versionString(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var vcs []string
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		vcs = append(vcs, "rev "+rev[:min(12, len(rev))])
	}
	if t := settings["vcs.time"]; t != "" {
		vcs = append(vcs, t)
	}
	if settings["vcs.modified"] == "true" {
		vcs = append(vcs, "modified")
	}
	extra := strings.Join(vcs, ", ")
	if bi.GoVersion != "" {
		if extra != "" {
			extra += "; "
		}
		extra += bi.GoVersion
	}
	if extra == "" {
		return v
	}
	return v + " (" + extra + ")"
}
