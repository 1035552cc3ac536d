package main

import (
	"runtime/debug"
	"strings"
)

// version and commit are stamped at build time (the Dockerfile does):
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse HEAD)" ./cmd/perfbot
//
// Unstamped, the commit comes from the build's version control information when Go recorded it.
var (
	version = "dev"
	commit  = ""
)

// versionLine is what `perfbot version` prints: "perfbot v1.2.3 (commit 0123abcd…)".
func versionLine() string {
	return formatVersion(version, commit, readBuildInfo)
}

func readBuildInfo() (*debug.BuildInfo, bool) { return debug.ReadBuildInfo() }

func formatVersion(version, commit string, info func() (*debug.BuildInfo, bool)) string {
	modified := false
	if commit == "" {
		if bi, ok := info(); ok {
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					commit = s.Value
				case "vcs.modified":
					modified = s.Value == "true"
				}
			}
			if version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				version = bi.Main.Version
			}
		}
	}
	if commit == "" {
		commit = "unknown"
	}
	if modified {
		commit += ", modified"
	}
	return "perfbot " + strings.TrimSpace(version) + " (commit " + commit + ")"
}
